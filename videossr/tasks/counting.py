"""Object counting: circles, squares and triangles are drawn over a few frames; count each shape.

Params: ``placement`` (how centres were drawn, see below) and ``placements``, a list of
``{"frame", "shape", "instances": [{"cx", "cy", "size", "rotation_deg", "color"}]}`` in
stored-frame pixels (``size`` is the shape's width: circle diameter, square side, equilateral
triangle side). Each shape type gets 1..max_frames distinct frames, more than ``min_spacing``
frames apart, one shape type per frame; each such frame gets 1..max_instances instances. Answer
``"circles,squares,triangles"``: the totals over the video.

Placements (option ``placement``):

* ``paper`` (default; the definition VIUBench's published numbers were measured on): an integer
  size in ``size_range`` of the shorter side; the centre drawn uniformly inside the central box
  (``region`` = 70 % of width and height) shrunk by a margin of int(0.75 x size) on every side,
  or over the whole frame with that margin when the box is too small for it; a draw closer than
  the new instance's size to an earlier centre of the frame is redrawn, at most
  ``PAPER_DRAWS`` draws, the last one kept. Instances may overlap.
* ``separated``: instances never overlap (bounding circles at least ``GAP_PX`` apart, sizes
  shrunk when there is no room); centres inside the central box, shapes may extend past it.
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
PLACEMENTS = ("paper", "separated")
PAPER_DRAWS = 20  # paper placement: centre draws per instance before the last one is kept
PAPER_MARGIN_PER_SIZE = 0.75  # paper placement: margin int(0.75 x size) inside the box
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
    placement: str = "paper"  # paper | separated (see the module doc)

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {self.placement!r}")
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


def _instance(x: float, y: float, size: float, rotation: float, color) -> dict:
    return {"cx": round(float(x), 2), "cy": round(float(y), 2), "size": round(float(size), 2), "rotation_deg": round(float(rotation), 2),
            "color": [int(c) for c in color]}


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high)) if low < high else (low + high) / 2


def centre_bounds(size: int, width: int, height: int, region: float) -> tuple[float, float, float, float]:
    """Paper placement: (x_low, x_high, y_low, y_high) of a centre for an instance of ``size``: the
    central ``region`` box shrunk by int(0.75 x size), or the whole frame shrunk by that margin
    when the box cannot hold it."""
    margin = int(PAPER_MARGIN_PER_SIZE * size)
    x0, y0 = (1 - region) / 2 * width, (1 - region) / 2 * height
    bounds = (x0 + margin, width - x0 - margin, y0 + margin, height - y0 - margin)
    if bounds[0] > bounds[1] or bounds[2] > bounds[3]:
        bounds = (margin, width - margin, margin, height - margin)
    return bounds


def _place_paper(rng: np.random.Generator, shape: str, count: int, width: int, height: int, opts: CountingOptions) -> list[dict]:
    """The paper's placement: centres in the central box, redrawn when too close, overlaps allowed."""
    side = min(width, height)
    centres: list[tuple[float, float]] = []
    instances = []
    for _ in range(count):
        size = int(rng.uniform(*opts.size_range) * side)
        x_low, x_high, y_low, y_high = centre_bounds(size, width, height, opts.region)
        for _draw in range(PAPER_DRAWS):
            x, y = _uniform(rng, x_low, x_high), _uniform(rng, y_low, y_high)
            if all(math.hypot(x - cx, y - cy) >= size for cx, cy in centres):
                break
        centres.append((x, y))
        rotation = rng.uniform(0, 360)
        color = rng.integers(opts.color_range[0], opts.color_range[1] + 1, size=3)
        instances.append(_instance(x, y, size, rotation, color))
    return instances


def _place_separated(rng: np.random.Generator, shape: str, count: int, width: int, height: int, opts: CountingOptions) -> list[dict]:
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
    return [_instance(x, y, s, rot, col) for (x, y), s, rot, col in zip(centres, sizes, rotations, colors)]


_PLACERS = {"paper": _place_paper, "separated": _place_separated}


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
            placements.append({"frame": f, "shape": shape, "instances": _PLACERS[opts.placement](rng, shape, count, width, height, opts)})
    placements.sort(key=lambda p: p["frame"])
    return {"placement": opts.placement, "placements": placements}


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
