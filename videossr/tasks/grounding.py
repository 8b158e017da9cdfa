"""Anomaly grounding: one segment of the video is perturbed; answer its start and end in seconds.

Params: ``perturbation`` (registry name), ``start_frame`` and ``length_frames`` (the segment is
the half-open frame span [start_frame, start_frame + length_frames) of the kept frames), plus
the perturbation's own params. Answer ``"start-end"`` in seconds, one decimal, on the model's
time axis (kept frame i at i / sample_fps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videossr import perturbations
from videossr.tasks.base import FrameRef, SampleContext, SkipSample, TaskSample, mean_abs_diff, preset, with_overrides

NAME = "grounding"
SPATIAL = {"grayscale", "invert", "channel_swap", "rotate90", "rotate180", "rotate270", "noise", "zoom_in", "zoom_out", "mirror", "blur", "saturation", "swap"}


@dataclass(frozen=True)
class GroundingOptions:
    perturbations: tuple[str, ...]
    min_length: int = 8  # segment length in kept frames, inclusive bounds
    max_length: int = 16
    start_range: tuple[int, int] | None = None  # inclusive bounds of the start frame (default [0, n - length])
    min_visible_diff: float = 2.0  # mean |pixel change| (0-255) each perturbed frame must show
    max_attempts: int = 4

    def __post_init__(self) -> None:
        for name in self.perturbations:
            perturbations.get(name)
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError(f"need 1 <= min_length <= max_length, got {self.min_length}, {self.max_length}")
        if self.start_range is not None and not 0 <= self.start_range[0] <= self.start_range[1]:
            raise ValueError(f"start_range must be (first, last) with 0 <= first <= last, got {self.start_range}")
        if self.min_visible_diff < 0 or self.max_attempts < 1:
            raise ValueError(f"need min_visible_diff >= 0 and max_attempts >= 1, got {self.min_visible_diff}, {self.max_attempts}")


def check_frames(opts: GroundingOptions, num_frames: int) -> None:
    """Refuse options that cannot work on videos of ``num_frames`` kept frames (before any decoding)."""
    if opts.max_length >= num_frames:
        raise ValueError(f"max_length={opts.max_length} must be below the {num_frames} kept frames (a segment covering the whole video has no normal part to find)")
    if opts.start_range is not None and opts.start_range[0] > num_frames - opts.min_length:
        raise ValueError(f"start_range={list(opts.start_range)}: a segment of min_length={opts.min_length} cannot start at frame {opts.start_range[0]} of {num_frames}")


VARIANTS = {name: GroundingOptions(perturbations=(name,)) for name in perturbations.REGISTRY}
VARIANTS["mixed"] = GroundingOptions(perturbations=tuple(perturbations.default_pool()))


def options(variant: str, **overrides) -> GroundingOptions:
    return with_overrides(preset(VARIANTS, variant, NAME), overrides)


def draw_params(rng: np.random.Generator, ctx: SampleContext, opts: GroundingOptions) -> dict:
    n = ctx.num_frames
    name = opts.perturbations[int(rng.integers(len(opts.perturbations)))]
    length = int(rng.integers(min(opts.min_length, n), min(opts.max_length, n) + 1))
    first, last = opts.start_range or (0, n - length)
    if first > n - length:
        raise SkipSample(f"no segment of {length} frames can start at frame >= {first} of {n}")
    start = int(rng.integers(first, min(last, n - length) + 1))
    params = {"perturbation": name, "start_frame": start, "length_frames": length, **perturbations.get(name).draw(rng, length)}
    if perturbations.get(name).needs_donor:
        if not ctx.donor_ids:
            raise SkipSample("swap needs another video to borrow frames from")
        params["donor_video_id"] = ctx.donor_ids[int(rng.integers(len(ctx.donor_ids)))]
        params["donor_start"] = int(rng.integers(0, max(1, n - length + 1)))
    return params


def apply(ctx: SampleContext, params: dict) -> list[FrameRef]:
    """The frames shown: unchanged ones by index, the segment as new frames or re-ordered indices."""
    p = perturbations.get(params["perturbation"])
    start, length, n = params["start_frame"], params["length_frames"], ctx.num_frames
    refs: list[FrameRef] = list(range(n))
    if p.temporal:
        refs[start : start + length] = p.order(start, length, n, params)
    else:
        donor = ctx.load_frames(params["donor_video_id"]) if p.needs_donor and ctx.load_frames else None
        if p.needs_donor and (donor is None or len(donor) < params["donor_start"] + length):
            raise SkipSample("donor video has too few frames for swap")
        refs[start : start + length] = list(p.pixel(ctx.frames[start : start + length], params, donor))
    return refs


def visible(ctx: SampleContext, params: dict, refs: list[FrameRef], min_diff: float) -> bool:
    start, length = params["start_frame"], params["length_frames"]
    shown = [ctx.frames[r] if isinstance(r, (int, np.integer)) else r for r in refs[start : start + length]]
    diffs = [mean_abs_diff(s, o) for s, o in zip(shown, ctx.frames[start : start + length])]
    return (np.mean(diffs) if perturbations.get(params["perturbation"]).temporal else min(diffs)) >= min_diff


def answer_seconds(params: dict, sample_fps: float) -> tuple[float, float]:
    start = params["start_frame"] / sample_fps
    return start, (params["start_frame"] + params["length_frames"]) / sample_fps


def render_answer(params: dict, sample_fps: float) -> str:
    start, end = answer_seconds(params, sample_fps)
    return f"{start:.1f}-{end:.1f}"


def render_question(params: dict) -> str:
    what = perturbations.get(params["perturbation"]).description
    return (
        f"This video plays normally except for one continuous segment in which {what}. "
        "When does that segment start and end? Give the start and end times in seconds with one "
        "decimal, in the form start-end (for example 4.2-7.9)."
    )


def ability(params: dict) -> str:
    return "spatial" if params["perturbation"] in SPATIAL else "temporal"


def expressible(params: dict, sample_fps: float) -> bool:
    """Whether the answer, written with one decimal, still has start < end (the scorer's rule): a
    segment squeezed into less than ~0.1 s on the model's time axis would read ``0.0-0.0``."""
    from videossr.rewards.grounding import parse_ground_truth

    try:
        parse_ground_truth(render_answer(params, sample_fps))
    except ValueError:
        return False
    return True


def make(ctx: SampleContext, opts: GroundingOptions, rng: np.random.Generator, index: int, variant: str) -> TaskSample:
    for _ in range(opts.max_attempts):
        params = draw_params(rng, ctx, opts)
        if not expressible(params, ctx.sample_fps):
            start, end = answer_seconds(params, ctx.sample_fps)
            reason = (f"the segment of {params['length_frames']} frames spans {end - start:.3g} s on this video's time axis: "
                      "too short for an answer in seconds with one decimal")
            continue
        refs = apply(ctx, params)
        if visible(ctx, params, refs, opts.min_visible_diff):
            break
        reason = f"{params['perturbation']} makes no visible change on this video"
    else:
        raise SkipSample(reason)
    return TaskSample(
        task=NAME, variant=variant, index=index, video_id=ctx.video_id, sample_fps=ctx.sample_fps,
        ability=ability(params), params=params, question=render_question(params),
        answer=render_answer(params, ctx.sample_fps), clips=(tuple(refs),),
    )


def marks(params: dict, clip_lengths: list[int]) -> list[list[bool]]:
    """Which shown frames to highlight in previews: the perturbed segment."""
    start, stop = params["start_frame"], params["start_frame"] + params["length_frames"]
    return [[start <= i < stop for i in range(clip_lengths[0])]]
