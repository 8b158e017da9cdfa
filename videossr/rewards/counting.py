"""Object counting scorer: per-shape closeness of the predicted (circles, squares, triangles).

Ground truth: ``"circles,squares,triangles"``, three non-negative integers, e.g. ``"3,1,4"``.

Accepted answers: exactly three non-negative integers, in the fixed order circles, squares,
triangles, with any separators or prose: ``3,1,4``, ``3 1 4``, ``(3, 1, 4)``, full-width digits.
Labelled answers are read by their labels, so order does not matter when every count carries
one: ``circles: 3, squares: 1, triangles: 4`` (label before) or ``3 circles, 1 square and 4
triangles`` (label after); a label is the nearest circle/square/triangle word (singular or
plural, any case) within ``LABEL_WINDOW_CHARS`` of its count, with no other count in between.
Labels that name a shape twice are a format failure. The same triple may be restated;
any other number count, a decimal or a negative count is a format failure.

Smooth reward (PAPER.md): per shape ``max(0, 1 - |pred - true| / (true + EPS))``, mean over the
three shapes. Strict: all three equal. ``details`` exposes the per-shape exact matches
(``exact_circles``, ...) and their mean ``exact_per_shape``, the VIUBench counting metric.
"""

from __future__ import annotations

import re
from functools import lru_cache

from videossr.rewards.parsing import Number, RewardResult, failure, find_numbers, locate_answer, unique_group

TASK = "counting"
SHAPES = ("circles", "squares", "triangles")  # answer order
EPS = 1e-6
LABEL_WINDOW_CHARS = 24
DETAIL_NAMES = tuple(f"exact_{shape}" for shape in SHAPES) + ("exact_per_shape", "viubench")

_TRUTH_RE = re.compile(r"\s*(\d{1,9})\s*,\s*(\d{1,9})\s*,\s*(\d{1,9})\s*", re.ASCII)
_LABEL_RE = re.compile(r"(circle|square|triangle)s?", re.IGNORECASE)
_LABEL_INDEX = {"circle": 0, "square": 1, "triangle": 2}

Counts = tuple[int, int, int]


@lru_cache(maxsize=4096)
def parse_ground_truth(ground_truth: str) -> Counts:
    """``"3,1,4"`` -> ``(3, 1, 4)``; raises ValueError on a malformed truth."""
    match = _TRUTH_RE.fullmatch(ground_truth) if isinstance(ground_truth, str) else None
    if match is None:
        raise ValueError(f"counting ground truth must look like '3,1,4' (circles,squares,triangles), got {ground_truth!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def parse_counts(answer: str) -> tuple[Counts | None, str]:
    """The (circles, squares, triangles) an answer region names, or ``(None, reason)``."""
    numbers, reason = find_numbers(answer)
    if numbers is None:
        return None, reason
    if any(number.negative for number in numbers):
        return None, "negative count"
    if any(not number.is_integer for number in numbers):
        return None, "counts must be whole numbers"
    if len(numbers) == 3:
        return _labelled_counts(answer, numbers)
    group, reason = unique_group([number.as_int() for number in numbers], 3)
    if group is None:
        return None, reason
    return (group[0], group[1], group[2]), ""


def _labelled_counts(answer: str, numbers: list[Number]) -> tuple[Counts | None, str]:
    """Three counts placed by their labels when all three carry one, else in order."""
    values = [number.as_int() for number in numbers]
    for labels in (_labels_before(answer, numbers), _labels_after(answer, numbers)):
        if None in labels:
            continue
        if sorted(labels) != [0, 1, 2]:
            return None, "shape labels name a shape twice"
        placed = [0, 0, 0]
        for label, value in zip(labels, values):
            placed[label] = value
        return (placed[0], placed[1], placed[2]), ""
    return (values[0], values[1], values[2]), ""


def _labels_before(answer: str, numbers: list[Number]) -> list[int | None]:
    labels = []
    for at, number in enumerate(numbers):
        gap_start = numbers[at - 1].end if at else 0
        window_start = max(gap_start, number.start - LABEL_WINDOW_CHARS)
        found = _LABEL_RE.findall(answer, window_start, number.start)
        labels.append(_LABEL_INDEX[found[-1].lower()] if found else None)
    return labels


def _labels_after(answer: str, numbers: list[Number]) -> list[int | None]:
    labels = []
    for at, number in enumerate(numbers):
        gap_end = numbers[at + 1].start if at + 1 < len(numbers) else len(answer)
        match = _LABEL_RE.search(answer, number.end, min(gap_end, number.end + LABEL_WINDOW_CHARS))
        labels.append(_LABEL_INDEX[match.group(1).lower()] if match else None)
    return labels


def closeness(predicted: int, true: int) -> float:
    """PAPER.md's per-shape reward: max(0, 1 - |pred - true| / (true + EPS))."""
    return max(0.0, 1.0 - abs(predicted - true) / (true + EPS))


def score(response: str, ground_truth: str) -> RewardResult:
    """Smooth = mean per-shape closeness, strict = all three counts equal."""
    truth = parse_ground_truth(ground_truth)
    answer, reason = locate_answer(response)
    if answer is None:
        return failure(TASK, reason, DETAIL_NAMES)
    counts, reason = parse_counts(answer)
    if counts is None:
        return failure(TASK, reason, DETAIL_NAMES)
    smooth = sum(closeness(p, t) for p, t in zip(counts, truth)) / 3.0
    exact = [1.0 if p == t else 0.0 for p, t in zip(counts, truth)]
    exact_per_shape = sum(exact) / 3.0
    strict = 1.0 if exact_per_shape == 1.0 else 0.0
    details = tuple(zip(DETAIL_NAMES, (*exact, exact_per_shape, exact_per_shape)))
    return RewardResult(TASK, smooth, strict, True, "", details)
