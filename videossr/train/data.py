"""The training data of a run: a build folder's ``train.parquet`` and held-out ``val.parquet``.

``videossr build ... --val-videos N`` writes ``val.parquet`` from videos that never appear in
``train.parquet``; :func:`resolve` picks it up by default so a run reports held-out reward.
:class:`DataSummary` reads what the training settings depend on from the rows themselves:
videos per row (vLLM's per-prompt video limit), frames per row and pixel limits (an upper bound
on the prompt's visual tokens).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from videossr.errors import UserError

TRAIN_FILE = "train.parquet"
VAL_FILE = "val.parquet"
NO_VAL = "none"
"""``--val none``: train without a held-out set even when the build has one."""

# Qwen3-VL: 16 px patches, 2x2 merge, 2 frames per temporal patch; each temporal patch of a video
# also carries a "<t seconds>" timestamp and vision start/end tokens.
PATCH_PX, MERGE, TEMPORAL = 16, 2, 2
TOKENS_PER_TIMESTAMP = 8
TEXT_TOKEN_MARGIN = 512
"""Room for the system prompt, the question and the chat template around the visual tokens."""


@dataclass(frozen=True)
class DataSummary:
    """What one parquet holds, as far as training settings care."""

    path: Path
    rows: int
    data_sources: dict[str, int] = field(repr=False)
    max_videos_per_row: int
    max_frames_per_row: int
    max_pixels: int
    min_pixels: int
    max_visual_tokens: int

    @property
    def prompt_tokens_upper_bound(self) -> int:
        """Visual tokens of the largest row plus a margin for the text (Qwen3-VL token layout)."""
        return self.max_visual_tokens + TEXT_TOKEN_MARGIN

    def to_dict(self) -> dict:
        return {
            "path": str(self.path), "rows": self.rows, "data_sources": dict(self.data_sources),
            "max_videos_per_row": self.max_videos_per_row, "max_frames_per_row": self.max_frames_per_row,
            "max_pixels": self.max_pixels, "min_pixels": self.min_pixels, "max_visual_tokens": self.max_visual_tokens,
            "prompt_tokens_upper_bound": self.prompt_tokens_upper_bound,
        }


@dataclass(frozen=True)
class TrainData:
    """Absolute paths of the training parquet and of the held-out one (``None``: no validation)."""

    train: Path
    val: Path | None
    summary: DataSummary


def visual_tokens(frames: int, max_pixels: int) -> int:
    """Upper bound on the Qwen3-VL tokens of one video of ``frames`` frames fitted into ``max_pixels``."""
    temporal_patches = math.ceil(frames / TEMPORAL)
    per_patch = max(1, max_pixels // ((PATCH_PX * MERGE) ** 2))
    return temporal_patches * (per_patch + TOKENS_PER_TIMESTAMP)


def summarize(path: str | os.PathLike) -> DataSummary:
    """Read ``data_source`` and ``videos`` of a verl parquet (see README, on-disk formats)."""
    import pyarrow.parquet as pq

    path = Path(path).resolve()
    try:
        table = pq.read_table(path, columns=["data_source", "videos"])
    except Exception as exc:  # pyarrow raises several types for a missing column or a broken file
        raise UserError(f"{path} is not a videossr/verl parquet ({exc})") from exc
    sources = Counter(table.column("data_source").to_pylist())
    most_videos = most_frames = most_tokens = max_px = 0
    min_px = None
    for videos in table.column("videos").to_pylist():
        videos = videos or []
        most_videos = max(most_videos, len(videos))
        most_frames = max(most_frames, sum(len(v["video"]) for v in videos))
        most_tokens = max(most_tokens, sum(visual_tokens(len(v["video"]), int(v["max_pixels"])) for v in videos))
        for v in videos:
            max_px = max(max_px, int(v["max_pixels"]))
            min_px = int(v["min_pixels"]) if min_px is None else min(min_px, int(v["min_pixels"]))
    if table.num_rows == 0:
        raise UserError(f"{path} has no rows")
    return DataSummary(path, table.num_rows, dict(sorted(sources.items())), most_videos, most_frames, max_px, min_px or 0, most_tokens)


def _parquet_in(path: Path, name: str) -> Path:
    return path / name if path.is_dir() else path


def resolve(data: str | os.PathLike, val: str | os.PathLike | None = None) -> TrainData:
    """``data``: a build folder (or its ``train.parquet``); ``val``: a parquet or folder, ``"none"``, or
    ``None`` for the build's own ``val.parquet`` when it has one."""
    train = _parquet_in(Path(data).expanduser(), TRAIN_FILE)
    if not train.is_file():
        raise UserError(f"no {TRAIN_FILE} at {train}: pass a folder written by `videossr build` (or a parquet file)")
    train = train.resolve()
    if val is None:
        candidate = train.parent / VAL_FILE
        val_path = candidate if candidate.is_file() and candidate != train else None
    elif str(val).lower() == NO_VAL:
        val_path = None
    else:
        val_path = _parquet_in(Path(val).expanduser(), VAL_FILE)
        if not val_path.is_file():
            raise UserError(f"no validation parquet at {val_path} (pass --val none to train without one)")
        val_path = val_path.resolve()
    return TrainData(train, val_path, summarize(train))
