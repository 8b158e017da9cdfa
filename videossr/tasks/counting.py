"""Object counting: circles, squares and triangles are drawn over a few frames; count each shape.

Params: ``placements``, a list of ``{"frame", "shape", "instances": [{"cx", "cy", "size",
"rotation_deg", "color"}]}`` in stored-frame pixels (``size`` is the shape's width: circle
diameter, square side, triangle side). Each shape type gets 1..max_frames distinct frames, more
than ``min_spacing`` frames apart, one shape type per frame; each such frame gets
1..max_instances instances. Answer ``"circles,squares,triangles"``: the totals over the video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from videossr.tasks.base import FrameRef, SampleContext, SkipSample, TaskSample, preset, with_overrides

NAME = "counting"
SHAPES = ("circle", "square", "triangle")  # answer order
GAP_PX = 4  # minimum gap between the bounding circles of two instances
MAX_SIZE = 0.7  # largest shape width / shorter frame side: a rotated square's bounding circle still fits
_CIRCUMRADIUS_PER_SIZE = {"circle": 0.5, "square": 1 / math.sqrt(2), "triangle": 1 / math.sqrt(3)}


@dataclass(frozen=True)
class CountingOptions:
    max_frames: int = 3  # frames per shape type, drawn from 1..max_frames
    max_instances: int = 3  # instances per picked frame, drawn from 1..max_instances
    min_spacing: int = 8  # frames of the same shape are more than this many frames apart
    shapes: tuple[str, ...] = SHAPES
    size_range: tuple[float, float] = (0.2, 0.4)  # fraction of min(height, width)
    region: float = 0.7  # centres lie in this central fraction of the frame
    color_range: tuple[int, int] = (50, 255)

    def __post_init__(self) -> None:
        unknown = set(self.shapes) - set(SHAPES)
        if unknown or not self.shapes:
            raise ValueError(f"shapes must be a non-empty subset of {SHAPES}, got {self.shapes}")
        if self.max_frames < 1 or self.max_instances < 1 or self.min_spacing < 0:
            raise ValueError("max_frames and max_instances must be >= 1, min_spacing >= 0")
        if len(set(self.shapes)) != len(self.shapes):
            raise ValueError(f"shapes must not repeat, got {list(self.shapes)}")
        lo, hi = self.size_range
        if not 0 < lo <= hi <= MAX_SIZE:
            raise ValueError(f"size_range must satisfy 0 < low <= high <= {MAX_SIZE} (fractions of the frame's shorter side, so every shape fits the frame), got {list(self.size_range)}")
        if not 0 < self.region <= 1:
            raise ValueError(f"region must be in (0, 1], got {self.region}")
        if not 0 <= self.color_range[0] <= self.color_range[1] <= 255:
            raise ValueError(f"color_range must satisfy 0 <= low <= high <= 255, got {list(self.color_range)}")


def check_frames(opts: CountingOptions, num_frames: int) -> None:
    """Refuse options that cannot work on videos of ``num_frames`` kept frames (before any decoding)."""
    span = (opts.max_frames - 1) * (opts.min_spacing + 1) + 1
    if span > num_frames or opts.max_frames * len(opts.shapes) > num_frames:
        raise ValueError(f"max_frames={opts.max_frames} frames per shape, more than min_spacing={opts.min_spacing} apart, for {len(opts.shapes)} shape(s) do not fit in {num_frames} kept frames")


VARIANTS = {"easy": CountingOptions(max_frames=3, max_instances=3), "hard": CountingOptions(max_frames=4, max_instances=4)}


def options(variant: str, **overrides) -> CountingOptions:
    return with_overrides(preset(VARIANTS, variant, NAME), overrides)


def _pick_frames(rng: np.random.Generator, n: int, k: int, used: set[int], spacing: int) -> list[int]:
    picked: list[int] = []
    for f in rng.permutation(n):
        f = int(f)
        if f not in used and all(abs(f - g) > spacing for g in picked):
            picked.append(f)
            if len(picked) == k:
                break
    return sorted(picked)


def _place(rng: np.random.Generator, shape: str, count: int, width: int, height: int, opts: CountingOptions) -> list[dict]:
    """Random non-overlapping instances (bounding circles apart); shrinks sizes if space runs out."""
    side = min(width, height)
    sizes = rng.uniform(*opts.size_range, size=count) * side
    rotations = rng.uniform(0, 360, size=count)
    colors = rng.integers(opts.color_range[0], opts.color_range[1] + 1, size=(count, 3))
    margin_x, margin_y = (1 - opts.region) / 2 * width, (1 - opts.region) / 2 * height
    for _shrink in range(12):
        radii = sizes * _CIRCUMRADIUS_PER_SIZE[shape]
        centres: list[tuple[float, float]] = []
        for r in radii:
            lo_x, hi_x = max(margin_x, r), min(width - margin_x, width - r)
            lo_y, hi_y = max(margin_y, r), min(height - margin_y, height - r)
            for _try in range(60):
                x = rng.uniform(lo_x, hi_x) if lo_x < hi_x else width / 2
                y = rng.uniform(lo_y, hi_y) if lo_y < hi_y else height / 2
                if all(math.hypot(x - cx, y - cy) > r + radii[j] + GAP_PX for j, (cx, cy) in enumerate(centres)):
                    centres.append((x, y))
                    break
            else:
                break
        if len(centres) == count:
            break
        sizes = sizes * 0.85
    else:
        raise SkipSample(f"no room for {count} separate {shape}s on a {width}x{height} frame")
    return [
        {"cx": round(x, 2), "cy": round(y, 2), "size": round(float(s), 2), "rotation_deg": round(float(rot), 2), "color": [int(c) for c in col]}
        for (x, y), s, rot, col in zip(centres, sizes, rotations, colors)
    ]


def draw_params(rng: np.random.Generator, ctx: SampleContext, opts: CountingOptions) -> dict:
    n, height, width = ctx.frames.shape[:3]
    used: set[int] = set()
    placements = []
    for shape in opts.shapes:
        frames = _pick_frames(rng, n, int(rng.integers(1, opts.max_frames + 1)), used, opts.min_spacing)
        if not frames:
            raise SkipSample(f"no free frame left for {shape}s")
        used.update(frames)
        for f in frames:
            count = int(rng.integers(1, opts.max_instances + 1))
            placements.append({"frame": f, "shape": shape, "instances": _place(rng, shape, count, width, height, opts)})
    placements.sort(key=lambda p: p["frame"])
    return {"placements": placements}


def polygon_vertices(shape: str, cx: float, cy: float, radius: float, rotation_deg: float) -> list[tuple[int, int]]:
    """Integer vertices of a regular triangle or square with circumradius ``radius``."""
    sides = 4 if shape == "square" else 3
    angles = np.deg2rad(rotation_deg + 360.0 * np.arange(sides) / sides)
    return [(int(round(cx + radius * np.cos(a))), int(round(cy + radius * np.sin(a)))) for a in angles]


def draw_shapes(frame: np.ndarray, placement: dict) -> np.ndarray:
    """Return a copy of ``frame`` with the placement's instances drawn (filled, solid colour)."""
    image = Image.fromarray(frame)
    pen = ImageDraw.Draw(image)
    for inst in placement["instances"]:
        cx, cy, size, color = inst["cx"], inst["cy"], inst["size"], tuple(inst["color"])
        radius = size * _CIRCUMRADIUS_PER_SIZE[placement["shape"]]
        if placement["shape"] == "circle":
            pen.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=color)
        else:
            pen.polygon(polygon_vertices(placement["shape"], cx, cy, radius, inst["rotation_deg"]), fill=color)
    return np.asarray(image)


def counts(params: dict) -> tuple[int, int, int]:
    totals = dict.fromkeys(SHAPES, 0)
    for p in params["placements"]:
        totals[p["shape"]] += len(p["instances"])
    return tuple(totals[s] for s in SHAPES)


def apply(ctx: SampleContext, params: dict) -> list[FrameRef]:
    refs: list[FrameRef] = list(range(ctx.num_frames))
    for p in params["placements"]:
        refs[p["frame"]] = draw_shapes(ctx.frames[p["frame"]], p)
    return refs


def render_question(params: dict) -> str:
    return (
        "Some frames of this video have circles, squares and triangles drawn on top of them. "
        "Count every drawn shape over the whole video. How many circles, squares and triangles "
        "are there in total? Answer with three integers in the order circles,squares,triangles "
        "(for example 2,0,5)."
    )


def make(ctx: SampleContext, opts: CountingOptions, rng: np.random.Generator, index: int, variant: str) -> TaskSample:
    params = draw_params(rng, ctx, opts)
    return TaskSample(
        task=NAME, variant=variant, index=index, video_id=ctx.video_id, sample_fps=ctx.sample_fps,
        ability="fine-grained", params=params, question=render_question(params),
        answer=",".join(str(c) for c in counts(params)), clips=(tuple(apply(ctx, params)),),
    )


def marks(params: dict, clip_lengths: list[int]) -> list[list[bool]]:
    frames = {p["frame"] for p in params["placements"]}
    return [[i in frames for i in range(clip_lengths[0])]]
