"""Output roots: which folders videossr owns, and one writer per folder at a time.

Every output root (``sample``, ``build``, ``export``, ``eval``, the benchmark, ...) holds a marker
file ``.videossr.json`` naming what wrote it. Discovery never enters a folder with a marker (or
the files of an older videossr output), and a command refuses to write into a non-empty folder
that another kind of command, or no videossr command, wrote.

A command that writes a root holds an exclusive OS lock (``flock``) on its ``.videossr.lock``
for as long as it runs; a second writer is refused at once with one line naming the holder (pid,
command, start time), exit code 75. The kernel drops the lock when its process dies, even by
``kill -9``, so a lock is never stale. Readers of a dataset (export, preview) hold a shared lock:
they never see a folder being rebuilt, and a build waits for nobody but refuses while one reads.
Locks are taken inside a :class:`lock_scope` (a decorator on each library entry point) and
released when it ends; taken outside any scope they last until the process exits.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from videossr import atomic
from videossr.errors import UserError

MARKER = ".videossr.json"
LOCK = ".videossr.lock"
BUSY_EXIT_CODE = 75  # EX_TEMPFAIL: try again later
# files by which outputs written before the marker existed are recognised
LEGACY_SIGNS = (("dataset.json", "store"), ("manifest.jsonl", "sampling.json"), ("eval.json", "videos"), ("run.json", "predictions.jsonl"))
# files by which a folder whose marker is unreadable shows what it holds
KIND_SIGNS = {"build": "build.json", "sample": "sampling.json", "viubench": "bench.json", "eval": "run.json", "export": "export-index.json"}
_UNREADABLE = "unreadable"


class OutputBusy(UserError):
    """Another process writes (or reads) the folder now; try again when it has finished."""


def output_kind(folder: Path) -> str | None:
    """The kind of videossr output ``folder`` holds (``"build"``, ``"sample"``, ...), or None."""
    marker = folder / MARKER
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text(encoding="utf-8")).get("kind", "unknown"))
        except (OSError, ValueError, AttributeError):
            return _UNREADABLE
    for signs in LEGACY_SIGNS:
        if all((folder / name).exists() for name in signs):
            return "legacy"
    return None


def is_output_root(folder: Path) -> bool:
    return output_kind(folder) is not None


def _is_within(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


# ----------------------------------------------------------------------------- locks


@dataclass
class _Held:
    fd: int
    exclusive: bool


_held: dict[Path, _Held] = {}
_registry_lock = threading.Lock()


def _key(root: Path) -> Path:
    return Path(os.path.realpath(root))


def _holder_text(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        if atomic.pid_alive(int(info["pid"])):
            return f"pid {info['pid']} ({info.get('command', 'videossr')}, since {info.get('since', '?')})"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return "another videossr process"


def _acquire(root: Path, *, exclusive: bool, command: str, create: bool) -> bool:
    """Lock ``root`` for this process; True if newly locked (False: already held strongly enough)."""
    key = _key(root)
    with _registry_lock:
        held = _held.get(key)
        if held is not None and (held.exclusive or not exclusive):
            return False
        if held is not None:  # shared, and now exclusive: drop the shared lock and lock again
            os.close(_held.pop(key).fd)
        path = root / LOCK
        if create:
            root.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        else:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                return False  # not a locking videossr folder: nothing to share
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(fd)
            os.close(fd)
            what = "--out" if exclusive else "the dataset"
            raise OutputBusy(f"{what} {root} is in use by {holder}; wait for it to finish, or choose another folder") from None
        if exclusive:
            since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            line = " ".join(["videossr", *sys.argv[1:]]) if Path(sys.argv[0]).name in ("videossr", "__main__.py") else command
            info = json.dumps({"pid": os.getpid(), "command": line[:160], "since": since}).encode("utf-8")
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, info, 0)
            except OSError:
                os.close(fd)
                raise
        _held[key] = _Held(fd, exclusive)
        return True


def _release(key: Path) -> None:
    with _registry_lock:
        held = _held.pop(key, None)
        if held is None:
            return
        with contextlib.suppress(OSError):
            if held.exclusive:
                os.ftruncate(held.fd, 0)  # a finished folder holds an empty lock file
        os.close(held.fd)  # closing drops the flock


def lock_output(out: str | os.PathLike, *, command: str = "videossr") -> None:
    """Hold the exclusive writer lock of ``out`` (creating the folder and its lock file);
    :class:`OutputBusy` when another process holds it."""
    _acquire(Path(out), exclusive=True, command=command, create=True)


def lock_for_reading(dataset: str | os.PathLike) -> None:
    """Hold a shared lock on the videossr folder ``dataset`` (a parquet file: its folder) while
    reading it; refuse when a writer holds it, or when it is a build that did not finish."""
    dataset = Path(dataset)
    root = dataset if dataset.is_dir() else dataset.parent
    if output_kind(root) is None:
        return
    _acquire(root, exclusive=False, command="reader", create=False)
    from videossr.build import BUILD_FILE

    state = atomic.read_state(root / BUILD_FILE) if (root / BUILD_FILE).is_file() else None
    if isinstance(state, dict) and state.get("complete") is False:
        raise UserError(f"{root} is an unfinished build (interrupted, or it failed); rerun the same videossr build to finish it")


def held(root: str | os.PathLike) -> bool:
    return _key(Path(root)) in _held


class lock_scope(contextlib.ContextDecorator):
    """Locks taken while this scope is open are released when it closes (decorator or ``with``)."""

    def _recreate_cm(self):
        return type(self)()  # one scope per call of a decorated function

    def __enter__(self):
        self._before = set(_held)
        return self

    def __exit__(self, *exc):
        for key in set(_held) - self._before:
            _release(key)
        return False


# ----------------------------------------------------------------------------- claims


def _check_kind(out: Path, kind: str, overwrite: bool) -> None:
    """Refuse ``out`` unless it is empty (but for lock and temporary files) or a ``kind`` output."""
    ours = (out / LOCK).exists()
    entries = [p for p in out.iterdir() if p.name != LOCK and not (ours and p.name.startswith(atomic.TMP_PREFIX))]
    if not entries:
        return
    found = output_kind(out)
    if found is None:
        raise UserError(f"--out {out} is a non-empty folder that videossr did not write; choose an empty or new folder")
    if found == _UNREADABLE:
        if overwrite or (kind in KIND_SIGNS and (out / KIND_SIGNS[kind]).exists()):
            return
        raise UserError(f"--out {out}: its marker {out / MARKER} is unreadable and the folder does not look like a {kind} output; "
                        "pass --overwrite to claim it anyway, or choose another folder")
    if found == "legacy" and not overwrite:
        raise UserError(f"--out {out} holds output of an older videossr version; pass --overwrite to replace it, or choose a new folder")
    if found not in (kind, "legacy"):
        raise UserError(f"--out {out} holds a videossr {found} output, not a {kind} output; choose another folder")


def claim_output(input_dir: Path | None, out: Path, *, kind: str, overwrite: bool = False, inputs=()) -> None:
    """Check that ``out`` may hold a ``kind`` output, lock it for this process and mark it as such.

    ``inputs``: other files or folders the command reads; a videossr folder among them is held
    with a shared lock (see :func:`lock_for_reading`). Refused: ``out`` equal to the input folder
    or containing it (``input_dir``, and the folders of the ``inputs``); an existing file; a non-empty folder that is not a
    videossr output of the same kind (``overwrite`` accepts an output of an older videossr
    version, or one whose marker is unreadable); a folder this process cannot write; a folder
    another process writes now (:class:`OutputBusy`). ``input_dir`` None skips the video-folder
    checks (e.g. an export, whose input is a dataset).
    """
    out = Path(out)
    roots = []
    if input_dir is not None:
        input_dir = Path(input_dir)
        if not input_dir.is_dir():
            raise UserError(f"video folder not found: {input_dir}" if not input_dir.exists() else f"{input_dir} is not a folder")
        roots.append(input_dir)
    for path in (Path(p) for p in inputs if p is not None):
        roots.append(path if path.is_dir() or not path.exists() else path.parent)
    for root in roots:
        if _is_within(root.resolve(), out.resolve()):
            raise UserError(f"--out {out} is the input folder or contains it ({root}); write the output somewhere else")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    if out.is_dir():
        _check_kind(out, kind, overwrite)  # before creating anything in a folder that may not be ours
    try:
        newly = _acquire(out, exclusive=True, command=kind, create=True)
    except OSError as exc:
        raise UserError(f"cannot write to --out {out}: {exc.strerror or exc}") from None
    try:
        _check_kind(out, kind, overwrite)  # again, under the lock
        for path in inputs:
            if path is not None:
                lock_for_reading(path)
        if output_kind(out) != kind:
            if output_kind(out) == _UNREADABLE:
                atomic.warn(f"{out / MARKER} is unreadable; writing it again (kind {kind})")
            atomic.write_json(out / MARKER, {"kind": kind, "written_by": "videossr"})
    except BaseException:
        if newly:
            _release(_key(out))
        raise
