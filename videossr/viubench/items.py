"""Benchmark items: the ``items.jsonl`` contract and :func:`load_items`.

A VIUBench folder ``BENCH`` holds ``bench.json`` (version, seed, counts, settings),
``items.jsonl`` (one item per line, subsets in paper order, ids ascending within a subset),
``build/`` (the build it was made from: frames) and ``eval/`` (eval.json + mp4s). Frame paths
in ``items.jsonl`` are relative to ``BENCH`` (so a moved or copied folder still works and two
builds of the same videos and seed are byte-identical); :func:`load_items` makes them absolute
and refuses any that leaves ``BENCH`` (an absolute path, ``..``, or a symlink pointing out of the
folder): a one-line error before any frame is read or sent.

An ``items.jsonl`` line (frame lists shortened)::

    {"viubench_version": "viubench-1.0", "id": "counting-easy-000000", "subset": "counting_easy",
     "task": "counting", "variant": "easy", "ability": "fine-grained", "data_source": "videossr/counting",
     "video_id": "bikes", "system_prompt": "You are a careful video analyst. ...",
     "user": "<video>\\nSome frames of this video ...", "question": "Some frames of this video ...",
     "answer": "3,1,4", "clips": [["build/store/frames/bikes/000000.jpg", ...]], "sample_fps": 4.8,
     "max_pixels": 262144, "min_pixels": 16384, "eval_files": ["eval/videos/counting-easy-000000.mp4"],
     "params": {...}}

``user`` is the user message with one ``<video>`` per clip: ``"<video>\\n{question}"`` for one
video, ``"Clip 1: <video>\\nClip 2: <video>\\n...{question}"`` for a jigsaw.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from videossr.errors import UserError
from videossr.prompt_parts import VIDEO_TOKEN, interleave
from videossr.viubench.subsets import BENCH_VERSION, subset_for

BENCH_FILE, ITEMS_FILE = "bench.json", "items.jsonl"


@dataclass(frozen=True)
class Clip:
    """One video of a question: frame paths in time order; frame i is at i / sample_fps seconds."""

    frames: tuple[str, ...]
    sample_fps: float
    max_pixels: int | None = None
    min_pixels: int | None = None

    def __repr__(self) -> str:
        return f"Clip(frames={len(self.frames)}, sample_fps={self.sample_fps}, first={self.frames[0] if self.frames else None!r})"


Part = Union[str, Clip]


@dataclass(frozen=True)
class Item:
    """One benchmark question. ``clips`` holds one tuple of ABSOLUTE frame paths per video."""

    id: str
    subset: str
    task: str
    variant: str
    ability: str
    data_source: str
    video_id: str
    system_prompt: str
    user: str
    question: str
    answer: str
    clips: tuple[tuple[str, ...], ...] = field(repr=False)
    sample_fps: float
    max_pixels: int | None = None
    min_pixels: int | None = None
    eval_files: tuple[str, ...] = field(default=(), repr=False)  # absolute mp4 paths (eval export)
    params: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.user.count(VIDEO_TOKEN) != len(self.clips):
            raise ValueError(f"item {self.id}: the user message has {self.user.count(VIDEO_TOKEN)} {VIDEO_TOKEN} for {len(self.clips)} clip(s)")

    @property
    def duration_s(self) -> float:
        """Length of the time axis the answer uses: the (first) video's frames / sample_fps."""
        return len(self.clips[0]) / self.sample_fps

    def user_parts(self) -> tuple[Part, ...]:
        """The user message as ordered parts: text strings and :class:`Clip` videos, e.g.
        ``(Clip, "\\nSome frames...")`` or ``("Clip 1: ", Clip, "\\nClip 2: ", Clip, ...)``.
        Empty text pieces are dropped."""
        return interleave(self.user, [Clip(frames, self.sample_fps, self.max_pixels, self.min_pixels) for frames in self.clips])


def item_record(row: dict) -> dict:
    """An ``items.jsonl`` line from a build row (verl schema) whose frame paths are relative to BENCH."""
    info = row["extra_info"]
    sub = subset_for(info["task"], info["variant"])
    messages = {m["role"]: m["content"] for m in row["prompt"]}
    first = row["videos"][0]
    return {
        "viubench_version": BENCH_VERSION, "id": info["sample_id"], "subset": sub.name, "task": info["task"],
        "variant": info["variant"], "ability": sub.ability, "data_source": row["data_source"], "video_id": info["video_id"],
        "system_prompt": messages["system"], "user": messages["user"], "question": info["question"],
        "answer": row["reward_model"]["ground_truth"], "clips": [list(v["video"]) for v in row["videos"]],
        "sample_fps": info["sample_fps"], "max_pixels": first["max_pixels"], "min_pixels": first["min_pixels"],
        "params": json.loads(info["params"]),
    }


class ConfinedPaths:
    """Absolute paths for the relative paths of a folder's file (``items.jsonl``, lmms-eval docs),
    refusing any that leave ``root``.

    A path must be relative and, resolved (symlinks followed), stay inside ``root``: ``/etc/passwd``,
    ``../outside/x.jpg`` or a symlink inside the folder that points out of it are refused before
    anything is read. Folders are resolved once each; a file is resolved only when it is a symlink.
    """

    def __init__(self, root: Path, what: str = "the VIUBench folder"):
        self.root, self.what = root, what
        self._folders: dict[str, bool] = {}

    def __call__(self, relative: str, where: str) -> str:
        path = os.path.normpath(os.path.join(self.root, relative))
        folder = os.path.dirname(path)
        inside = self._folders.get(folder)
        if inside is None:
            inside = self._folders[folder] = not os.path.isabs(relative) and self._inside(folder)
        if not inside or (os.path.islink(path) and not self._inside(path)):
            raise UserError(f"{where}: path {relative[:200]!r} leaves {self.what} {self.root}; refusing to read it")
        return path

    def _inside(self, path: str) -> bool:
        return Path(os.path.realpath(path)).is_relative_to(self.root)


def item_from_record(record: dict, root: Path, *, where: str = ITEMS_FILE, confined: ConfinedPaths | None = None) -> Item:
    """The :class:`Item` of one ``items.jsonl`` line; its paths made absolute under ``root`` (a
    resolved folder), refusing any path that leaves it (:class:`UserError` naming ``where``)."""
    confined = confined or ConfinedPaths(root)

    def absolute(relative: str) -> str:
        return confined(relative, where)

    return Item(
        id=record["id"], subset=record["subset"], task=record["task"], variant=record["variant"], ability=record["ability"],
        data_source=record["data_source"], video_id=record["video_id"], system_prompt=record["system_prompt"],
        user=record["user"], question=record["question"], answer=record["answer"],
        clips=tuple(tuple(absolute(p) for p in clip) for clip in record["clips"]), sample_fps=float(record["sample_fps"]),
        max_pixels=record.get("max_pixels"), min_pixels=record.get("min_pixels"),
        eval_files=tuple(absolute(p) for p in record.get("eval_files", ())), params=record.get("params", {}),
    )


def check_version(found: object, where: str) -> None:
    """Refuse anything made for another benchmark version, naming both versions."""
    if found != BENCH_VERSION:
        raise UserError(f"{where} is for benchmark version {found!r}, but this videossr implements {BENCH_VERSION!r}; "
                        f"rebuild the benchmark (videossr viubench build) or use the videossr release that made it")


def read_bench_meta(bench_dir: str | os.PathLike) -> dict:
    """``bench.json`` of a VIUBench folder, version-checked."""
    bench_dir = Path(bench_dir)
    path = bench_dir / BENCH_FILE
    if not path.is_file():
        if not bench_dir.exists():
            raise UserError(f"VIUBench folder not found: {bench_dir}")
        raise UserError(f"{bench_dir} is not a VIUBench folder (no {BENCH_FILE}; make one with videossr viubench build)")
    meta = json.loads(path.read_text(encoding="utf-8"))
    check_version(meta.get("viubench_version"), str(path))
    if not meta.get("complete", False):
        raise UserError(f"{bench_dir} holds an unfinished VIUBench build; rerun videossr viubench build to finish it")
    return meta


def load_bench(bench_dir: str | os.PathLike) -> tuple[dict, list[Item]]:
    """``bench.json`` (version-checked, see :func:`read_bench_meta`) and :func:`load_items`'s items,
    each file read once."""
    bench_dir = Path(bench_dir)
    meta = read_bench_meta(bench_dir)
    root = bench_dir.resolve()
    confined = ConfinedPaths(root)
    items = []
    with open(bench_dir / ITEMS_FILE, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            check_version(record.get("viubench_version"), f"{bench_dir / ITEMS_FILE} line {number}")
            items.append(item_from_record(record, root, where=f"{bench_dir / ITEMS_FILE} line {number}", confined=confined))
    return meta, items


def load_items(bench_dir: str | os.PathLike) -> list[Item]:
    """Every item of a VIUBench folder in file order (paper subset order), frame paths absolute.

    Refuses a folder (or an item line) whose ``viubench_version`` differs from :data:`BENCH_VERSION`.
    """
    return load_bench(bench_dir)[1]
