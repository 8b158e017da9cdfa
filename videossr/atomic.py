"""Atomic file output: write to a temporary sibling, then rename over the target.

A reader (or a rerun after ``kill -9``) sees either the old file or the complete new one,
never a partial one. Temporary names carry the writing process's id
(``.tmp-<name>.<pid>-<random>``), so cleanup removes only leftovers of processes that are gone.
Files are also given a cheap check (size + a digest of their head and tail) that a rerun
compares to find truncated, replaced or deleted outputs, and state files that cannot be parsed
are named in one warning line and treated as missing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

TMP_PREFIX = ".tmp-"
_TMP_PID = re.compile(r"\.(\d+)-[^.]*$")  # the ".<pid>-<random>" tail of a temporary name
_NAME_KEEP = 96  # characters of the target name kept in a temporary name (stays under NAME_MAX)
CHECK_SPAN = 16 * 1024  # bytes hashed at each end of a file by file_check


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _tmp_prefix(path: Path) -> str:
    return f"{TMP_PREFIX}{path.name[:_NAME_KEEP]}.{os.getpid()}-"


def tmp_sibling(path: Path) -> Path:
    """A new empty file beside ``path`` (unique to this process), with the permissions a plain ``open()`` would give."""
    fd, name = tempfile.mkstemp(prefix=_tmp_prefix(path), dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    return Path(name)


def _replace_via_tmp(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_sibling(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return _replace_via_tmp(Path(path), write)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    lines = "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    return write_text(path, lines)


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def read_state(path: str | os.PathLike, *, jsonl: bool = False, redo: str = "treating it as missing"):
    """A JSON (or JSONL) state file, or None when it is absent or cannot be read or parsed
    (then one warning line names the file and says what happens instead)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return read_jsonl(path) if jsonl else json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not valid JSON" if isinstance(exc, ValueError) else str(exc)
        warn(f"{path} is unreadable ({reason}); {redo}")
        return None


def write_parquet(path: str | os.PathLike, table) -> Path:
    """Write a ``pyarrow.Table`` atomically."""
    import pyarrow.parquet as pq

    return _replace_via_tmp(Path(path), lambda tmp: pq.write_table(table, tmp))


def make_staging_dir(final: Path) -> Path:
    """A fresh temporary directory beside ``final`` (unique to this process), to be committed with :func:`commit_dir`."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=_tmp_prefix(final), dir=final.parent))
    staging.chmod(0o777 & ~_umask())
    return staging


def commit_dir(staging: Path, final: Path) -> None:
    """Move a finished staging directory into place, replacing an old one (moved aside first, so
    ``final`` is always either the old or the new directory, or briefly absent after ``kill -9``)."""
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=_tmp_prefix(final), dir=final.parent))
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def tmp_owner(name: str) -> int | None:
    """The pid in a temporary name made by this module (None for other names)."""
    match = _TMP_PID.search(name) if name.startswith(TMP_PREFIX) else None
    return int(match.group(1)) if match else None


def remove_stale_tmp(root: Path) -> int:
    """Delete leftovers of interrupted runs (``.tmp-*`` entries) directly under ``root``: those of
    this process and of processes no longer alive. Names without a pid (written by a videossr
    older than the pid naming) are leftovers too: callers hold the output's lock."""
    removed = 0
    if not root.is_dir():
        return 0
    for entry in root.iterdir():
        if not entry.name.startswith(TMP_PREFIX):
            continue
        owner = tmp_owner(entry.name)
        if owner is not None and owner != os.getpid() and pid_alive(owner):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def _check(size: int, head: bytes, tail: bytes) -> list:
    digest = hashlib.blake2b(head, digest_size=8)
    digest.update(tail)
    return [size, digest.hexdigest()]


def bytes_check(data: bytes) -> list:
    """``[size, digest]`` of content about to be written (see :func:`file_check`)."""
    if len(data) <= 2 * CHECK_SPAN:
        return _check(len(data), data, b"")
    return _check(len(data), data[:CHECK_SPAN], data[-CHECK_SPAN:])


def file_check(path: str | os.PathLike) -> list | None:
    """``[size, digest]``: the size and a blake2b of the first and last 16 KiB (the whole file
    when it is at most 32 KiB, as stored frames are); None when the file cannot be read."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size <= 2 * CHECK_SPAN:
                return _check(size, fh.read(), b"")
            head = fh.read(CHECK_SPAN)
            fh.seek(size - CHECK_SPAN)
            return _check(size, head, fh.read(CHECK_SPAN))
    except OSError:
        return None


def matches(path: str | os.PathLike, check) -> bool:
    """Whether the file at ``path`` still has the check recorded when it was written."""
    return check is not None and file_check(path) == list(check)
