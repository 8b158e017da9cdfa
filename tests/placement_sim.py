"""An independent model of the paper's counting placement, and shape geometry to measure overlaps.

Written from PAPER.md's words ("Object counting / Placement"), not from videossr's generator:

    a central box of 70 % of the frame's width and height; each instance's centre is drawn
    uniformly with a margin of int(0.75 x size) inside that box; a draw is rejected when its
    centre lies closer than the new instance's own size to any earlier centre on that frame;
    after 20 draws the last one is kept [...] When the box is too small for the margin, the
    centre is drawn over the whole frame with that margin. Circles have diameter = size;
    squares side = size; triangles are equilateral with side = size.
    Size 20-40 % of min(h, w) (an integer side/diameter); rotation uniform 0-360 degrees.

It uses Python's own ``random.Random`` (a local instance) so it shares no code or random stream
with the generator. Used by tests/test_counting_placement.py and
benchmarks/bench_counting_placement.py.
"""

from __future__ import annotations

import math
import random

BOX_FRACTION = 0.7
TRIES = 20


def simulate_frame(rnd: random.Random, width: int, height: int, count: int, size_fraction=(0.2, 0.4)) -> list[tuple[float, float, int, float]]:
    """One frame of ``count`` instances: (centre x, centre y, size, rotation in degrees) each."""
    shorter = min(width, height)
    left, right = width * (1 - BOX_FRACTION) / 2, width * (1 + BOX_FRACTION) / 2
    top, bottom = height * (1 - BOX_FRACTION) / 2, height * (1 + BOX_FRACTION) / 2
    placed: list[tuple[float, float, int, float]] = []
    for _ in range(count):
        size = int(shorter * rnd.uniform(*size_fraction))
        margin = int(0.75 * size)
        if right - left >= 2 * margin and bottom - top >= 2 * margin:
            x_range, y_range = (left + margin, right - margin), (top + margin, bottom - margin)
        else:
            x_range, y_range = (margin, width - margin), (margin, height - margin)
        for _try in range(TRIES):
            x, y = rnd.uniform(*x_range), rnd.uniform(*y_range)
            if not any(math.dist((x, y), (px, py)) < size for px, py, _, _ in placed):
                break  # accepted; otherwise the 20th draw is kept as it is
        placed.append((x, y, size, rnd.uniform(0, 360)))
    return placed


def outline(shape: str, x: float, y: float, size: float, rotation_deg: float) -> list[tuple[float, float]]:
    """Vertices of a square (side ``size``) or equilateral triangle (side ``size``) centred at (x, y)."""
    corners = 4 if shape == "square" else 3
    # distance centre -> corner: side / (2 sin(pi / corners))
    reach = size / (2 * math.sin(math.pi / corners))
    return [(x + reach * math.cos(math.radians(rotation_deg) + 2 * math.pi * k / corners),
             y + reach * math.sin(math.radians(rotation_deg) + 2 * math.pi * k / corners)) for k in range(corners)]


def _projections(points, axis) -> tuple[float, float]:
    values = [px * axis[0] + py * axis[1] for px, py in points]
    return min(values), max(values)


def convex_overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """Whether two convex polygons share interior area (separating-axis test; touching is not overlap)."""
    for polygon in (a, b):
        for k in range(len(polygon)):
            (x1, y1), (x2, y2) = polygon[k], polygon[(k + 1) % len(polygon)]
            axis = (y1 - y2, x2 - x1)
            low_a, high_a = _projections(a, axis)
            low_b, high_b = _projections(b, axis)
            if high_a <= low_b or high_b <= low_a:
                return False
    return True


def instances_overlap(shape: str, first: tuple, second: tuple) -> bool:
    """Whether two instances (x, y, size, rotation) of ``shape`` overlap."""
    if shape == "circle":
        return math.dist(first[:2], second[:2]) < (first[2] + second[2]) / 2
    return convex_overlap(outline(shape, *first), outline(shape, *second))


def frame_has_overlap(shape: str, instances: list[tuple]) -> bool:
    return any(instances_overlap(shape, instances[i], instances[j]) for i in range(len(instances)) for j in range(i + 1, len(instances)))


def simulated_overlap_share(frames: list[tuple[int, int, str, int]], *, repeats: int, seed: int = 0) -> float:
    """Share of simulated frames with an overlapping pair, ``repeats`` simulations per (width, height, shape, count)."""
    rnd = random.Random(seed)
    hits = total = 0
    for width, height, shape, count in frames:
        for _ in range(repeats):
            hits += frame_has_overlap(shape, simulate_frame(rnd, width, height, count))
            total += 1
    return hits / total
