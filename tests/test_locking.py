"""One writer per output folder: locks, refusals, readers, temporary files, the eval output claim."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from integrity_helpers import make_folder, quick_build

from videossr import atomic
from videossr.errors import UserError
from videossr.outputs import BUSY_EXIT_CODE, LOCK, OutputBusy, claim_output, lock_output, lock_scope

HOLD = """
import sys, time
from pathlib import Path
from videossr.outputs import lock_output
lock_output(Path(sys.argv[1]), command="holder-for-test")
print("ready", flush=True)
time.sleep(120)
"""


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "videossr", *map(str, args)], capture_output=True, text=True)


def _hold(folder: Path) -> subprocess.Popen:
    """Another process that holds the writer lock of ``folder`` until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("locking")
    src = make_folder(root / "src", 2)
    quick_build(src, root / "ds")
    return src, root / "ds"


def test_a_second_writer_is_refused_naming_the_holder_and_kill9_frees_the_folder(tmp_path, built):
    src, _ = built
    out = tmp_path / "out"
    holder = _hold(out)
    try:
        result = _cli("build", src, "--out", out, "--no-progress", "--workers", "1")
        assert result.returncode == BUSY_EXIT_CODE, result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        assert f"pid {holder.pid} (holder-for-test, since " in result.stderr
        assert not (out / "build.json").exists()  # refused before touching anything
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the kernel dropped the lock with the process: no stale lock, the build runs
    result = _cli("build", src, "--out", out, "--no-progress", "--workers", "1", "--recipe", "all-tasks", "--size", "2")
    assert result.returncode == 0, result.stderr
    assert (out / LOCK).read_bytes() == b""  # a finished folder's lock names nobody


def test_locks_are_released_when_the_call_ends_and_reentrant_within_it(tmp_path, built):
    src, _ = built
    quick_build(src, tmp_path / "out", size=2)
    holder = _hold(tmp_path / "out")  # the in-process build left no lock behind
    holder.kill()
    holder.wait()
    with lock_scope():
        lock_output(tmp_path / "x")
        lock_output(tmp_path / "x")  # the same process may take it again
        probe = subprocess.run([sys.executable, "-c", HOLD, str(tmp_path / "x")], capture_output=True, text=True, timeout=60)
        assert probe.returncode == 1 and "OutputBusy" in probe.stderr and f"pid {os.getpid()}" in probe.stderr
    _hold(tmp_path / "x").kill()  # released at the end of the scope


def test_readers_refuse_a_dataset_being_written_or_left_unfinished(tmp_path, built):
    _, ds = built
    from videossr.export import export_eval

    holder = _hold(ds)
    try:
        result = _cli("export", ds, "--out", tmp_path / "eval", "--no-progress")
        assert result.returncode == BUSY_EXIT_CODE and result.stderr.count("\n") == 1, result.stderr
        assert f"in use by pid {holder.pid}" in result.stderr
        result = _cli("preview", ds, "--out", tmp_path / "previews")
        assert result.returncode == BUSY_EXIT_CODE and result.stderr.count("\n") == 1, result.stderr
    finally:
        holder.kill()
        holder.wait()
    state = json.loads((ds / "build.json").read_text())
    (ds / "build.json").write_text(json.dumps({**state, "complete": False}))  # what a killed rebuild leaves
    try:
        with pytest.raises(UserError, match="unfinished build"):
            export_eval(ds, tmp_path / "eval2", progress=False)
    finally:
        (ds / "build.json").write_text(json.dumps(state))
    # a writer is refused while a reader holds the dataset
    from videossr.outputs import lock_for_reading

    with lock_scope():
        lock_for_reading(ds)
        probe = subprocess.run([sys.executable, "-c", HOLD, str(ds)], capture_output=True, text=True, timeout=60)
        assert probe.returncode == 1 and "OutputBusy" in probe.stderr and "in use by another videossr process" in probe.stderr


def test_stale_temp_cleanup_keeps_files_of_live_processes(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        live_dir = tmp_path / f".tmp-abc.{sleeper.pid}-k2j4h5g6"
        live_dir.mkdir()
        (tmp_path / f".tmp-x.jsonl.{sleeper.pid}-aaaa1111").write_text("live")
        (tmp_path / f".tmp-abc.{dead.pid}-zzzz9999").mkdir()
        (tmp_path / f".tmp-y.json.{os.getpid()}-qqqq0000").write_text("mine")
        (tmp_path / "keep").mkdir()
        assert atomic.remove_stale_tmp(tmp_path) == 2
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live_dir.name, f".tmp-x.jsonl.{sleeper.pid}-aaaa1111", "keep"])
    finally:
        sleeper.kill()
        sleeper.wait()
    assert atomic.remove_stale_tmp(tmp_path) == 2  # now gone: its leftovers go too


def test_temporary_names_carry_the_pid_and_are_unique(tmp_path):
    names = {atomic.tmp_sibling(tmp_path / "clip.mp4").name for _ in range(5)}
    assert len(names) == 5 and all(atomic.tmp_owner(n) == os.getpid() for n in names)
    staging = atomic.make_staging_dir(tmp_path / "job")
    assert atomic.tmp_owner(staging.name) == os.getpid()


def test_eval_out_is_claimed_like_build_outputs(tmp_path, built):
    _, ds = built
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("run.json", "report.json", "todo.txt"):
        (notes / name).write_text("mine")
    base = ("eval", ds, "--backend", "synthetic", "--no-progress")
    for out in (notes, ds, ds.parent):
        result = _cli(*base, "--out", out, "--overwrite")
        assert result.returncode == 2 and result.stderr.count("\n") == 1, (out, result.stderr)
    assert sorted(p.name for p in notes.iterdir()) == ["report.json", "run.json", "todo.txt"]
    assert all((notes / n).read_text() == "mine" for n in ("run.json", "report.json"))
    assert "did not write" in _cli(*base, "--out", notes).stderr
    assert "is the input folder or contains it" in _cli(*base, "--out", ds.parent).stderr
    result = _cli(*base, "--out", tmp_path / "eval")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "eval/.videossr.json").read_text())["kind"] == "eval"
    assert _cli(*base, "--out", tmp_path / "eval", "--overwrite").returncode == 0
    with pytest.raises(UserError, match="holds a videossr eval output"):
        claim_output(None, tmp_path / "eval", kind="build")

