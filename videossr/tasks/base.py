"""What every pretext task shares: the sample record, the per-video context, the skip signal.

A task module provides ``NAME``, ``VARIANTS`` (preset name -> options), ``options(variant, **overrides)``
and ``make(ctx, options, rng, index) -> TaskSample``. ``make`` draws a params record once from
``rng`` (the ground truth, JSON-able), applies it to the frames, and renders question and answer
from the params alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable, Sequence, Union

import numpy as np

from videossr.names import unknown

# A frame of a sample: an int is the index of an unchanged kept frame of the source video
# (referenced from the frame store, never rewritten); an array is a new (perturbed) frame.
FrameRef = Union[int, np.ndarray]

SYSTEM_PROMPT = (
    "You are a careful video analyst. Watch the video and reply with the final answer only, "
    "exactly in the format the question asks for, with no explanation."
)


class SkipSample(Exception):
    """This video cannot yield this sample (e.g. the perturbation would be invisible)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SampleContext:
    """The source video as the tasks see it: kept frames in memory plus what is needed around them."""

    video_id: str
    frames: np.ndarray = field(repr=False)  # (N, H, W, 3) uint8
    sample_fps: float
    donor_ids: tuple[str, ...] = ()  # other videos whose frames a task may borrow (Swap)
    load_frames: Callable[[str], np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])


@dataclass(frozen=True)
class TaskSample:
    """One question with its verifiable answer. ``clips`` holds one frame list per video entry."""

    task: str
    variant: str
    index: int
    video_id: str
    sample_fps: float
    ability: str
    params: dict
    question: str
    answer: str
    clips: tuple[tuple[FrameRef, ...], ...] = field(repr=False)

    @property
    def sample_id(self) -> str:
        return f"{self.task}-{self.variant}-{self.index:06d}"

    def new_frame_count(self) -> int:
        return sum(1 for clip in self.clips for ref in clip if not isinstance(ref, (int, np.integer)))


def with_overrides(options, overrides: dict):
    """A copy of a frozen options dataclass with ``overrides`` applied; unknown keys are an error."""
    known = {f.name for f in fields(options)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for {type(options).__name__}; known: {sorted(known)}")
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    return replace(options, **converted)


def preset(variants: dict, variant: str, task: str):
    if variant not in variants:
        raise unknown(f"{task} variant", variant, variants)
    return variants[variant]


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |a - b| over all pixels and channels of two uint8 arrays (no widening copy)."""
    return float((np.maximum(a, b) - np.minimum(a, b)).mean())


def frames_of(clip: Sequence[FrameRef], frames: np.ndarray) -> np.ndarray:
    """Materialise a clip's frames (references resolved against the source frames)."""
    return np.stack([frames[ref] if isinstance(ref, (int, np.integer)) else ref for ref in clip])
