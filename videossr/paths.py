"""Confinement: a path read from a file (a parquet row, an items.jsonl record, an outside JSON) must
stay inside the root it belongs to (the dataset or bench folder, ``--video-dir``).

:func:`confined` is the one check every reader calls. The path is taken relative to the root when
it is relative, made absolute, normalised (``..`` applied) and, by default, resolved through
symbolic links; the result must be the root itself or lie under the (equally resolved) root. So
``../../x``, ``/etc/passwd`` and a link inside the root that points out of it are all refused, with
one :class:`PathOutsideRoot` line (a :class:`~videossr.errors.UserError`: exit 2 on the CLI).
Callers open the path :func:`confined` returns, never the text they read (``link/../x`` means
something else to the kernel than to a string check).
``follow_links=False`` checks the normalised path only, for roots whose links are followed by
design (an input video folder, see :func:`videossr.discover.find_videos`).
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path

from videossr.errors import UserError
from videossr.names import short_repr


class PathOutsideRoot(UserError):
    """A path read from a file points outside the folder it must stay in."""


def _real(path: str, follow_links: bool) -> str:
    return os.path.realpath(path) if follow_links else os.path.normpath(path)


class Confiner:
    """:func:`confined` for many paths under one root, resolving each folder once (a dataset has
    tens of thousands of frames in a few thousand folders)."""

    def __init__(self, root: str | os.PathLike, *, follow_links: bool = True):
        self.follow_links = follow_links
        self.base = _real(os.path.abspath(root), follow_links)
        self._prefix = self.base.rstrip(os.sep) + os.sep
        self._folders: dict[str, str] = {}

    def __call__(self, path: str | os.PathLike, *, what: str = "path") -> Path:
        if not isinstance(path, (str, os.PathLike)) or not str(path) or "\0" in str(path):
            raise PathOutsideRoot(f"{what} {short_repr(path)} is not a file path")
        lexical = os.path.normpath(os.path.join(self.base, os.fspath(path)))
        folder, name = os.path.split(lexical)
        real_folder = self._folders.get(folder)
        if real_folder is None:
            real_folder = self._folders[folder] = _real(folder, self.follow_links)
        full = os.path.join(real_folder, name)
        if self.follow_links and os.path.islink(full):
            full = os.path.realpath(full)
        if full != self.base and not full.startswith(self._prefix):
            raise PathOutsideRoot(f"{what} {short_repr(str(path))} is outside {self.base} (paths read from a file must stay inside their folder)")
        return Path(full)


def confined(root: str | os.PathLike, path: str | os.PathLike, *, what: str = "path", follow_links: bool = True) -> Path:
    """``path`` (relative to ``root``, or absolute) as an absolute path inside ``root``; raises
    :class:`PathOutsideRoot` naming ``what`` when it is not."""
    return Confiner(root, follow_links=follow_links)(path, what=what)


_CANNOT_WRITE = (errno.EROFS, errno.EACCES, errno.EPERM)


@contextmanager
def writing_into(folder: str | os.PathLike, flag: str = "--out"):
    """Turn "read-only file system" / "permission denied" while writing under ``folder`` into one
    :class:`~videossr.errors.UserError` line naming the folder (exit 2 on the CLI)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _CANNOT_WRITE:
            raise
        raise UserError(f"cannot write to {flag} {folder}: {exc.strerror or exc}") from None
