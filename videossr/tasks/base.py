"""What every pretext task shares: the sample record, the per-video context, the skip signal.

A task module provides ``NAME``, ``VARIANTS`` (preset name -> options), ``options(variant, **overrides)``
``check_frames(options, num_frames)`` (refuses options that cannot work on that many kept frames,
so a recipe fails before any decoding) and ``make(ctx, options, rng, index) -> TaskSample``. ``make`` draws a params record once from
``rng`` (the ground truth, JSON-able), applies it to the frames, and renders question and answer
from the params alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable, Sequence, Union

import numpy as np

from videossr.names import did_you_mean, unknown

# A frame of a sample: an int is the index of an unchanged kept frame of the source video
# (referenced from the frame store, never rewritten); an array is a new (perturbed) frame.
FrameRef = Union[int, np.ndarray]

# No comma: lmms-eval's --model_args splits on commas, and its qwen3_vl class takes the system
# prompt only from there (see videossr.viubench.lmms_eval).
SYSTEM_PROMPT = (
    "You are a careful video analyst. Watch the video and reply with the final answer only: "
    "exactly in the format the question asks for and with no explanation."
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


def _typed(option: str, value, hint: str, where: str):
    """``value`` checked against a field annotation (``int``, ``float``, ``tuple[str, ...]``, ...)."""
    def bad(expected: str):
        return ValueError(f"{where}: option {option!r} must be {expected}, got {value!r}")

    hint = hint.replace(" | None", "")
    if hint == "int":
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise bad("an integer")
        return int(value)
    if hint == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise bad("a number")
        return float(value)
    if hint == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if hint.startswith("tuple["):
        inner = [part.strip() for part in hint[len("tuple["):-1].split(",")]
        if not isinstance(value, (list, tuple)):
            raise bad("a list, e.g. [x, y]" if inner[-1] == "..." else f"a list of {len(inner)} values")
        if inner[-1] == "...":
            if not value:
                raise bad("a non-empty list")
            return tuple(_typed(option, v, inner[0], where) for v in value)
        if len(value) != len(inner):
            raise bad(f"a list of {len(inner)} values")
        return tuple(_typed(option, v, t, where) for v, t in zip(value, inner))
    return value


def with_overrides(options, overrides: dict):
    """A copy of a frozen options dataclass with ``overrides`` applied.

    Unknown keys are an error (with the closest known name), and each value is checked against
    the field's type, so ``min_length: "8"`` or ``perturbations: mirror`` are refused.
    """
    where = type(options).__name__
    known = {f.name: f.type for f in fields(options)}
    if not isinstance(overrides, dict):
        raise ValueError(f"{where}: options must be a mapping, got {overrides!r}")
    for key in overrides:
        if key not in known:
            raise ValueError(f"{where}: unknown option {key!r}{did_you_mean(key, known)}")
    converted = {k: _typed(k, v, str(known[k]), where) for k, v in overrides.items()}
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
