"""Find candidate video files under a folder and give each a stable, file-name-safe id."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from videossr.names import bounded, sanitize, short_hash

ID_PART_SEPARATOR = "__"


@dataclass(frozen=True)
class VideoFile:
    """One candidate input file. ``rel_path`` uses forward slashes, relative to the scanned root."""

    video_id: str
    path: Path
    rel_path: str


def _base_id(rel_path: str) -> str:
    stem = rel_path.rsplit(".", 1)[0] if "." in Path(rel_path).name else rel_path
    return ID_PART_SEPARATOR.join(sanitize(p) for p in stem.split("/"))


def assign_ids(rel_paths: list[str]) -> dict[str, str]:
    """Map each relative path to a unique id.

    The id is the relative path without its extension, folders joined by ``__`` and unsafe
    characters replaced by ``_``. Files that would share an id (``clip.mp4`` and ``clip.mkv``)
    get their extension appended (``clip_mp4``, ``clip_mkv``); any remaining clash (from
    sanitising) gets a short hash of the relative path. An id longer than
    :data:`~videossr.names.MAX_ID_BYTES` (a 255-character file name is legal on Linux, but the
    files named after the id add suffixes) is cut and ends in a hash of the relative path.
    Ids depend only on the set of paths.
    """
    by_base: dict[str, list[str]] = defaultdict(list)
    for rel in rel_paths:
        by_base[_base_id(rel)].append(rel)
    ids: dict[str, str] = {}
    for base, rels in by_base.items():
        for rel in rels:
            ext = Path(rel).suffix.lstrip(".")
            ids[rel] = bounded(base if len(rels) == 1 else f"{base}_{sanitize(ext or 'noext')}", rel)
    counts: dict[str, int] = defaultdict(int)
    for vid in ids.values():
        counts[vid] += 1
    return {rel: (vid if counts[vid] == 1 else bounded(f"{vid}_{short_hash(rel)}", rel)) for rel, vid in ids.items()}


def find_videos(root: str | os.PathLike, *, exclude: list[Path] | None = None) -> list[VideoFile]:
    """Every non-hidden file under ``root`` (recursively, sorted), as a candidate video.

    Whether a file really is a video is decided by FFmpeg when it is opened; files that are
    not become skip records with a reason. ``exclude`` folders (e.g. the output root when it
    lies inside the input) and any folder holding a videossr output are not entered.

    Symbolic links are followed, to files and to folders (the input folder is the user's own: a
    folder of links to videos elsewhere is a normal way to pick a subset). A video found through a
    link keeps the link's path (``rel_path``, id); each real folder is entered once, so a link
    loop ends; a broken link is listed and becomes a skip record ("unreadable: No such file ...").
    """
    from videossr.outputs import is_output_root

    root = Path(root).resolve()
    excluded = {p.resolve() for p in (exclude or [])}
    entered = {root}
    rels: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            real = (here / d).resolve()
            if d.startswith(".") or real in excluded or real in entered or is_output_root(here / d):
                continue
            entered.add(real)
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = here / name
            if name.startswith(".") or not (full.is_file() or (full.is_symlink() and not full.exists())):
                continue
            rels.append(full.relative_to(root).as_posix())
    ids = assign_ids(rels)
    return [VideoFile(video_id=ids[rel], path=root / rel, rel_path=rel) for rel in rels]
