"""Temporal jigsaw: the video is cut into n equal clips shown shuffled as "Clip 1".."Clip n".

Params: ``n``, ``clip_length`` (kept frames per clip = num_frames // n; the last
num_frames % n frames are dropped), ``shown_order`` (0-based: the clip shown as "Clip j+1" is
original clip ``shown_order[j]``), ``used_frames``. Answer: the play order that restores the
video, i.e. for each original clip k (first to last) the 1-based number it is shown under;
n <= 9 as digits ("315264"), n >= 10 comma separated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videossr.tasks.base import FrameRef, SampleContext, SkipSample, TaskSample, preset, with_overrides

NAME = "jigsaw"
MIN_CLIPS, MAX_CLIPS = 2, 12


@dataclass(frozen=True)
class JigsawOptions:
    n: int = 6

    def __post_init__(self) -> None:
        if not MIN_CLIPS <= self.n <= MAX_CLIPS:
            raise ValueError(f"jigsaw n must be in [{MIN_CLIPS}, {MAX_CLIPS}], got {self.n}")


def check_frames(opts: JigsawOptions, num_frames: int) -> None:
    """Refuse a clip count that leaves clips of fewer than 2 frames (before any decoding)."""
    if num_frames // opts.n < 2:
        raise ValueError(f"jigsaw n={opts.n} needs at least {2 * opts.n} kept frames (clips of >= 2 frames), the recipe keeps {num_frames}")


VARIANTS = {"easy": JigsawOptions(n=6), "hard": JigsawOptions(n=8)}
VARIANTS.update({f"n{k}": JigsawOptions(n=k) for k in range(MIN_CLIPS, MAX_CLIPS + 1)})


def options(variant: str, **overrides) -> JigsawOptions:
    return with_overrides(preset(VARIANTS, variant, NAME), overrides)


def draw_params(rng: np.random.Generator, ctx: SampleContext, opts: JigsawOptions) -> dict:
    clip_length = ctx.num_frames // opts.n
    if clip_length < 2:
        raise SkipSample(f"{ctx.num_frames} frames are too few for {opts.n} clips of >= 2 frames")
    order = np.arange(opts.n)
    while np.array_equal(order, np.arange(opts.n)):
        order = rng.permutation(opts.n)
    return {"n": opts.n, "clip_length": clip_length, "shown_order": [int(i) for i in order], "used_frames": clip_length * opts.n}


def play_order(params: dict) -> list[int]:
    """1-based clip numbers in the order that restores the video (inverse of ``shown_order``)."""
    position = {orig: shown + 1 for shown, orig in enumerate(params["shown_order"])}
    return [position[k] for k in range(params["n"])]


def format_order(order: list[int]) -> str:
    return "".join(map(str, order)) if len(order) <= 9 else ",".join(map(str, order))


def apply(ctx: SampleContext, params: dict) -> list[list[FrameRef]]:
    length = params["clip_length"]
    return [list(range(orig * length, (orig + 1) * length)) for orig in params["shown_order"]]


def render_question(params: dict) -> str:
    n = params["n"]
    example = format_order(list(range(n, 0, -1)))
    form = f"{n} digits with no spaces" if n <= 9 else f"{n} numbers separated by commas"
    return (
        f"The {n} clips above (Clip 1 to Clip {n}) are consecutive parts of one video, cut into "
        f"equal lengths and shuffled. In which order must the clips be played to restore the "
        f"original video? Answer with the clip numbers in play order, as {form} (for example {example})."
    )


def make(ctx: SampleContext, opts: JigsawOptions, rng: np.random.Generator, index: int, variant: str) -> TaskSample:
    params = draw_params(rng, ctx, opts)
    return TaskSample(
        task=NAME, variant=variant, index=index, video_id=ctx.video_id, sample_fps=ctx.sample_fps,
        ability="temporal", params=params, question=render_question(params),
        answer=format_order(play_order(params)), clips=tuple(tuple(c) for c in apply(ctx, params)),
    )


def marks(params: dict, clip_lengths: list[int]) -> list[list[bool]]:
    return [[False] * n for n in clip_lengths]
