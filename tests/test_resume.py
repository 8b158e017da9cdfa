"""kill -9 in the middle of a run, rerun: the result equals an uninterrupted run."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import tree_digest


def _videos(tmp_path, clips_dir, copies=3):
    src = tmp_path / "videos"
    for k in range(copies):
        (src / f"set{k}").mkdir(parents=True)
        for clip in sorted(clips_dir.glob("*.mp4")):
            shutil.copy(clip, src / f"set{k}" / clip.name)
    return src


def _kill_when(cmd, ready, timeout_s=120):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + timeout_s
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.02)
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return killed


def _committed(folder):
    return [p for p in folder.glob("*") if not p.name.startswith(".tmp-")] if folder.is_dir() else []


@pytest.mark.slow
def test_sample_kill9_then_rerun_gives_the_same_manifest(tmp_path, clips_dir):
    src = _videos(tmp_path, clips_dir)
    cli = [sys.executable, "-m", "videossr", "sample", str(src), "--workers", "1", "--no-progress", "--out"]
    assert subprocess.run(cli + [str(tmp_path / "clean")]).returncode == 0
    killed = _kill_when(cli + [str(tmp_path / "killed")], lambda: len(_committed(tmp_path / "killed" / "frames")) >= 3)
    assert killed, "the run finished before it could be killed; make the input larger"
    assert not (tmp_path / "killed" / "manifest.jsonl").exists()
    assert subprocess.run(cli + [str(tmp_path / "killed")]).returncode == 0
    assert (tmp_path / "killed" / "manifest.jsonl").read_text() == (tmp_path / "clean" / "manifest.jsonl").read_text()
    assert not list((tmp_path / "killed" / "frames").glob(".tmp-*"))
    assert tree_digest(tmp_path / "killed" / "frames").keys() == tree_digest(tmp_path / "clean" / "frames").keys()


@pytest.mark.slow
def test_build_kill9_then_rerun_gives_the_same_rows(tmp_path, clips_dir):
    import pyarrow.parquet as pq

    src = _videos(tmp_path, clips_dir, copies=2)
    cli = [sys.executable, "-m", "videossr", "build", str(src), "--workers", "1", "--no-progress", "--out"]
    assert subprocess.run(cli + [str(tmp_path / "clean")]).returncode == 0
    killed = _kill_when(cli + [str(tmp_path / "killed")], lambda: len(_committed(tmp_path / "killed" / "rows")) >= 2)
    assert killed
    assert subprocess.run(cli + [str(tmp_path / "killed")]).returncode == 0

    def rows(root):
        table = pq.read_table(root / "train.parquet").to_pylist()
        for r in table:  # paths differ only by the output root
            for v in r["videos"]:
                v["video"] = [p.replace(str(root.resolve()), "ROOT") for p in v["video"]]
        return table

    assert rows(tmp_path / "killed") == rows(tmp_path / "clean")
