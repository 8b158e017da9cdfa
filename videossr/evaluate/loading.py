"""Which kind of target a path is, and loading it: the one dispatch over the three target loaders.

:func:`load_target` tells a VIUBench folder, a build dataset and an outside JSON apart
(:func:`detect_kind`), calls that kind's loader (:mod:`~videossr.evaluate.viubench_target`,
:mod:`~videossr.evaluate.dataset_target`, :mod:`~videossr.evaluate.outside`) and makes sure the
target carries a content fingerprint (``info["fingerprint"]``: VIUBench's own from
``bench.json``, else the first 16 hex digits of the SHA-256 of the source file). A predictions
line is bound to ``Target.fingerprint`` (kind + that digest) and its item id, so answers made on
another build, seed or kind of target are never read as this one's.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from videossr.errors import UserError
from videossr.evaluate.target import DEFAULT_MAX_FRAMES, Target
from videossr.names import did_you_mean
from videossr.viubench.items import BENCH_FILE, ITEMS_FILE


def detect_kind(path: Path) -> str:
    """``viubench`` / ``dataset`` / ``outside`` for a path, from the files it holds."""
    if path.is_dir():
        if (path / BENCH_FILE).is_file() and (path / ITEMS_FILE).is_file():
            return "viubench"
        if (path / "train.parquet").is_file():
            return "dataset"
        raise UserError(f"{path} is neither a VIUBench folder (bench.json + items.jsonl) nor a videossr build dataset (train.parquet)")
    if path.suffix == ".parquet":
        return "dataset"
    if path.suffix in (".json", ".jsonl"):
        return "outside"
    raise UserError(f"cannot tell what {path} is: give a VIUBench folder, a build dataset (folder or .parquet) or a {{video, question, answer}} JSON")


def file_digest(path: Path) -> str:
    """The first 16 hex digits of the SHA-256 of a file (VIUBench's fingerprint of its items.jsonl)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _with_fingerprint(target: Target, source: Path) -> Target:
    if not target.info.get("fingerprint"):
        target.info["fingerprint"] = file_digest(source)
    return target


def _pretext(path: Path) -> bool:
    """Whether an outside JSON's answers are all in the pretext formats (False when it is no item list at all)."""
    from videossr.evaluate.outside import _read_items
    from videossr.evaluate.pretext_json import is_pretext_json

    try:
        return is_pretext_json(_read_items(path), path)
    except UserError:
        return False


def load_target(path: str | os.PathLike, *, task: str | None = None, video_dir: str | os.PathLike | None = None, max_frames: int = DEFAULT_MAX_FRAMES,
                limit: int | None = None, work_dir: str | os.PathLike | None = None, progress: bool = False, parser: str | None = None,
                fps: float | None = None, prompt_template: str | None = None) -> Target:
    """Load the items of a VIUBench folder, a build dataset or an outside VQA/VTG JSON.

    ``task`` (``vqa``/``vtg``) forces the kind of an outside JSON (default: detected from the
    answers); ``video_dir`` is where its videos are; they are sampled at fps 2 capped by
    ``max_frames`` into ``work_dir`` (required for outside JSONs; the eval runner passes
    ``OUT/frames``). ``limit`` keeps the first N items (the fingerprint stays the whole file's).
    ``parser`` (``paper``/``robust``, VIUBench folders only) is how answers are read (default ``paper``).
    An outside JSON whose answers are all in the pretext formats (the official VIUBench release)
    is scored as VIUBench subsets (:mod:`~videossr.evaluate.pretext_json`). ``fps`` (default 2) and
    ``prompt_template`` (``{question}`` placeholder) are for outside JSONs (:mod:`videossr.evaluate.outside`).
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"no such target: {path}")
    if limit is not None and limit < 1:
        raise UserError(f"limit must be >= 1, got {limit}")
    kind = detect_kind(path)
    if task is not None and task not in ("vqa", "vtg"):
        raise UserError(f"unknown outside task {task!r}{did_you_mean(task, ('vqa', 'vtg'))}")
    if kind != "outside" and (task is not None or video_dir is not None):
        raise UserError(f"--task and --video-dir are for outside JSON benchmarks; {path} is a {kind}")
    if kind != "outside" and (fps is not None or prompt_template is not None):
        raise UserError(f"--fps and --prompt-template are for outside JSON benchmarks; {path} is a {kind} (it keeps its own prompts and time axis)")
    if parser is not None and (kind == "dataset" or (kind == "outside" and not _pretext(path))):
        raise UserError(f"--parser is for VIUBench folders and pretext-format JSONs (the official release); {path} is neither")
    if kind == "viubench":
        from videossr.evaluate.viubench_target import load_viubench

        return _with_fingerprint(load_viubench(path, limit=limit, parser=parser), path / ITEMS_FILE)
    if kind == "dataset":
        from videossr.evaluate.dataset_target import load_dataset

        return _with_fingerprint(load_dataset(path, limit=limit), path / "train.parquet" if path.is_dir() else path)
    from videossr.evaluate.outside import load_outside

    if video_dir is None:
        raise UserError(f"{path} is an outside benchmark JSON: give --video-dir (the folder its videos are in)")
    if work_dir is None:
        raise UserError("an outside benchmark needs a work_dir for its sampled frames")
    if task is None:  # answers in the pretext formats (the official VIUBench release): scored as VIUBench subsets
        from videossr.evaluate.pretext_json import load_if_pretext

        if (target := load_if_pretext(path, video_dir=Path(video_dir), work_dir=Path(work_dir), limit=limit, parser=parser)) is not None:
            return _with_fingerprint(target, path)
    extra = {"fps": fps} if fps is not None else {}
    return _with_fingerprint(load_outside(path, task=task, video_dir=Path(video_dir), max_frames=max_frames, limit=limit, work_dir=Path(work_dir),
                                          progress=progress, prompt_template=prompt_template, **extra), path)
