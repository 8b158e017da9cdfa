"""Faults outside the program: a killed driver, early Ctrl-C, a full disk, a read-only folder."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from integrity_helpers import assert_equals_clean_build, make_folder, quick_build

from videossr import atomic
from videossr.cli import main


def _session_processes(sid: int) -> list[int]:
    """Live (non-zombie) processes of session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != b"Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_within_seconds_when_the_build_is_killed(tmp_path):
    src = make_folder(tmp_path / "src", 16)
    cmd = [sys.executable, "-m", "videossr", "build", str(src), "--out", str(tmp_path / "out"), "--no-progress", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    # the forkserver, the resource tracker and two workers
    while time.time() < deadline and proc.poll() is None and len(_session_processes(proc.pid)) < 5:
        time.sleep(0.02)
    assert proc.poll() is None, "the build finished before its workers could be seen"
    os.kill(proc.pid, signal.SIGKILL)  # the driver only, as `kill -9 PID` does
    killed = time.time()
    proc.wait()
    proc.communicate(timeout=30)  # returns once every process holding the pipes is gone
    pipes_closed = time.time() - killed
    while _session_processes(proc.pid) and time.time() - killed < 30:
        time.sleep(0.05)
    assert _session_processes(proc.pid) == [] and pipes_closed < 5, f"pipes closed after {pipes_closed:.1f} s"


def test_ctrl_c_while_starting_exits_130_without_a_traceback(tmp_path):
    """Ctrl-C at any moment of the first 0.25 s after videossr's own code starts (-X importtime
    shows when the interpreter's startup is over: a signal before that is Python's own business)."""
    src = make_folder(tmp_path / "src", 1)
    for delay in (0.02, 0.08, 0.15, 0.25):
        cmd = [sys.executable, "-X", "importtime", "-m", "videossr", "build", str(src), "--out", str(tmp_path / f"out{delay}"), "--no-progress"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        lines = []
        while not (lines and lines[-1].rstrip().endswith("| videossr")):
            lines.append(proc.stderr.readline())
            assert lines[-1], "the package videossr was never imported"
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        err = "".join(line for line in err.splitlines(keepends=True) if not line.startswith("import time:"))
        assert proc.returncode == 130, (delay, proc.returncode, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "interrupted" in err, (delay, err)


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[0]))


def test_disk_full_is_one_line_exit_1_and_keeps_finished_work(tmp_path, monkeypatch, capsys):
    src = make_folder(tmp_path / "src", 2)
    out = tmp_path / "out"
    monkeypatch.setattr(atomic, "write_parquet", _no_space)  # every job done, then the parquet write fails
    code = main(["build", str(src), "--out", str(out), "--recipe", "all-tasks", "--size", "4", "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: no space left on the device writing "), err
    assert "finished work is kept" in err
    finished = sorted(p.relative_to(out) for p in (out / "rows").rglob("*.jsonl"))
    assert finished and not list(out.rglob(".tmp-*"))
    monkeypatch.undo()
    from videossr.recipe import load_recipe

    quick_build(src, out, load_recipe("all-tasks"), size=4)
    assert sorted(p.relative_to(out) for p in (out / "rows").rglob("*.jsonl")) == finished
    assert_equals_clean_build(src, out, load_recipe("all-tasks"), size=4)


def test_read_only_out_is_one_line(tmp_path, monkeypatch, capsys):
    src = make_folder(tmp_path / "src", 2)
    quick_build(src, tmp_path / "ds", size=2)
    read_only = tmp_path / "ro"
    read_only.mkdir()
    real_open = os.open

    def open_(path, flags, *args, **kwargs):  # what a read-only mount answers to a write
        if str(path).startswith(str(read_only)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    commands = [
        ["build", str(src), "--out", str(read_only), "--workers", "1", "--no-progress"],
        ["sample", str(src), "--out", str(read_only), "--workers", "1", "--no-progress"],
        ["export", str(tmp_path / "ds"), "--out", str(read_only), "--no-progress"],
        ["preview", str(tmp_path / "ds"), "--out", str(read_only)],
    ]
    for argv in commands:
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "Read-only file system" in err, (argv[0], err)
    assert list(read_only.iterdir()) == []
