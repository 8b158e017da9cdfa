"""Temporal jigsaw scorer: how far the predicted clip order is from the true one.

Ground truth: for n <= 9 clips, n digits without separators (``"315264"``); for n from 10 to 12,
comma-separated 1-based integers (``"3,1,10,2,4,5,6,7,8,9,11,12"``). n is 2..12.

Accepted answers: the n clip numbers in order, with any separators or prose:
``3,1,5,2,6,4``, ``3-1-5-2-6-4``, ``3 1 5 2 6 4``, ``Clip 3, Clip 1, ...``, ``3 -> 1 -> 5 ...``,
full-width digits; for n <= 9 also the compact ``315264`` (a run of exactly n digits is read
digit by digit). The same order may be restated; anything that is not one permutation of
1..n (wrong length, repeats, out-of-range numbers, two different orders, decimals,
negatives) is a format failure.

Smooth reward (PAPER.md): E = sum over clips of |position in prediction - position in truth|,
E_max = floor(n^2 / 2) (the largest possible E), reward = 1 - E / E_max. Strict: identical order.
"""

from __future__ import annotations

import re
from functools import lru_cache

from videossr.rewards.parsing import RewardResult, failure, find_numbers, locate_answer, unique_group

TASK = "jigsaw"
MIN_CLIPS, MAX_CLIPS = 2, 12
MAX_COMPACT_CLIPS = 9  # up to this many clips an order may be written as one run of digits
DETAIL_NAMES = ("exact", "viubench")

_COMPACT_TRUTH_RE = re.compile(r"\s*(\d{2,9})\s*", re.ASCII)
_LIST_TRUTH_RE = re.compile(r"\s*\d{1,2}(?:\s*,\s*\d{1,2})+\s*", re.ASCII)

Order = tuple[int, ...]  # 1-based clip numbers


@lru_cache(maxsize=4096)
def parse_ground_truth(ground_truth: str) -> Order:
    """``"315264"`` or ``"3,1,10,..."`` -> the order; raises ValueError unless a permutation of 1..n."""
    order: Order | None = None
    if isinstance(ground_truth, str):
        if _COMPACT_TRUTH_RE.fullmatch(ground_truth):
            order = tuple(int(digit) for digit in ground_truth.strip())
        elif _LIST_TRUTH_RE.fullmatch(ground_truth):
            order = tuple(int(item) for item in ground_truth.split(","))
    if order is None or not MIN_CLIPS <= len(order) <= MAX_CLIPS or not is_permutation(order, len(order)):
        raise ValueError(
            f"jigsaw ground truth must be a permutation of 1..n (n in {MIN_CLIPS}..{MAX_CLIPS}) written as "
            f"'315264' (n <= 9) or '3,1,10,...', got {ground_truth!r}"
        )
    return order


def is_permutation(order: Order, n: int) -> bool:
    return len(order) == n and sorted(order) == list(range(1, n + 1))


def parse_order(answer: str, n: int) -> tuple[Order | None, str]:
    """The order of n clips an answer region names, or ``(None, reason)``."""
    numbers, reason = find_numbers(answer)
    if numbers is None:
        return None, reason
    if any(number.negative or not number.is_integer for number in numbers):
        return None, "clip numbers must be positive whole numbers"
    values: list[int] = []
    for number in numbers:
        digits = number.int_digits
        if n <= MAX_COMPACT_CLIPS and len(digits) == n:
            values.extend(int(digit) for digit in digits)
        else:
            values.append(number.as_int())
    order, reason = unique_group(values, n)
    if order is None:
        return None, reason
    if not is_permutation(order, n):
        return None, f"not a permutation of 1..{n}"
    return order, ""


def footrule_reward(predicted: Order, truth: Order) -> float:
    """1 - E / floor(n^2 / 2), E = total displacement of the clips (Spearman's footrule)."""
    n = len(truth)
    truth_position = {clip: position for position, clip in enumerate(truth)}
    displacement = sum(abs(position - truth_position[clip]) for position, clip in enumerate(predicted))
    return 1.0 - displacement / (n * n // 2)


def score(response: str, ground_truth: str) -> RewardResult:
    """Smooth = 1 - E / E_max, strict = identical order."""
    truth = parse_ground_truth(ground_truth)
    answer, reason = locate_answer(response)
    if answer is None:
        return failure(TASK, reason, DETAIL_NAMES)
    order, reason = parse_order(answer, len(truth))
    if order is None:
        return failure(TASK, reason, DETAIL_NAMES)
    exact = 1.0 if order == truth else 0.0
    return RewardResult(TASK, footrule_reward(order, truth), exact, True, "", (("exact", exact), ("viubench", exact)))
