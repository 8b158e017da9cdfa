"""Anomaly grounding scorer: temporal IoU of the predicted and true [start, end] in seconds.

Ground truth: ``"start-end"`` in seconds with at most one decimal, e.g. ``"12.3-20.5"``
(0 <= start < end).

Accepted answers: exactly two times, start then end, anywhere in the answer region, with any
separators or prose around them: ``12.5-20``, ``12.5s - 20s``, ``[12.5, 20.0]``,
``between 12.5 and 20 seconds``, ``from 0:12.5 to 0:20`` (``M:SS`` and ``H:MM:SS`` clock times),
full-width digits. The same interval may be restated ("12.5-20, i.e. 12.5-20"); any other
count of times, or two different intervals, is a format failure. Negative times and
start > end are format failures.

Both times are rounded half up to 0.1 s (the answer's precision) before scoring, so the smooth
reward is the IoU on that grid and the strict reward (both endpoints equal) never exceeds it.
All arithmetic is on integer tenths of a second.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

from videossr.names import short_repr
from videossr.rewards.parsing import Number, RewardResult, failure, find_numbers, locate_answer, unique_group

TASK = "grounding"
DETAIL_NAMES = ("iou", "viubench")

_CLOCK_SEPARATORS = (":", "\uff1a")
_TENTHS_PER_MINUTE = 600
_TENTHS_PER_HOUR = 36000
_TRUTH_RE = re.compile(r"\s*(\d{1,9})(?:\.(\d))?\s*-\s*(\d{1,9})(?:\.(\d))?\s*", re.ASCII)

Interval = tuple[int, int]  # (start, end) in tenths of a second


@lru_cache(maxsize=4096)
def parse_ground_truth(ground_truth: str) -> Interval:
    """``"12.3-20.5"`` -> ``(123, 205)`` tenths; raises ValueError on a malformed truth."""
    match = _TRUTH_RE.fullmatch(ground_truth) if isinstance(ground_truth, str) else None
    if match is None:
        raise ValueError(f"grounding ground truth must look like '12.3-20.5' (seconds), got {short_repr(ground_truth)}")
    start_tenths = int(match.group(1)) * 10 + int(match.group(2) or 0)
    end_tenths = int(match.group(3)) * 10 + int(match.group(4) or 0)
    if start_tenths >= end_tenths:
        raise ValueError(f"grounding ground truth needs start < end, got {short_repr(ground_truth)}")
    return start_tenths, end_tenths


def parse_interval(answer: str) -> tuple[Interval | None, str]:
    """The (start, end) tenths an answer region names, or ``(None, reason)``."""
    numbers, reason = find_numbers(answer)
    if numbers is None:
        return None, reason
    times_tenths, reason = _times_tenths(answer, numbers)
    if times_tenths is None:
        return None, reason
    interval, reason = unique_group(times_tenths, 2)
    if interval is None:
        return None, reason
    if interval[0] > interval[1]:
        return None, "start after end"
    return (interval[0], interval[1]), ""


def _times_tenths(answer: str, numbers: list[Number]) -> tuple[list[int] | None, str]:
    """Numbers as times in tenths; ``M:SS(.f)`` and ``H:MM:SS(.f)`` runs become one time each."""
    times: list[int] = []
    at = 0
    while at < len(numbers):
        run = [numbers[at]]
        while len(run) < 3 and at + 1 < len(numbers) and _clock_joined(answer, run[-1], numbers[at + 1]):
            at += 1
            run.append(numbers[at])
        if any(part.negative for part in run):
            return None, "negative time"
        tenths = _clock_tenths(run)
        if tenths is None:
            return None, "malformed clock time"
        times.append(tenths)
        at += 1
    return times, ""


def _clock_joined(answer: str, left: Number, right: Number) -> bool:
    return left.is_integer and answer[left.end:right.start] in _CLOCK_SEPARATORS


def _clock_tenths(run: list[Number]) -> int | None:
    seconds_tenths = run[-1].as_tenths()
    if len(run) == 1:
        return seconds_tenths
    if seconds_tenths >= _TENTHS_PER_MINUTE:
        return None
    minutes = run[-2].as_int()
    if len(run) == 2:
        return minutes * _TENTHS_PER_MINUTE + seconds_tenths
    if minutes >= 60:
        return None
    return run[0].as_int() * _TENTHS_PER_HOUR + minutes * _TENTHS_PER_MINUTE + seconds_tenths


def iou(predicted: Interval, truth: Interval) -> float:
    """Temporal IoU of two [start, end] intervals in tenths (0 when the union is empty)."""
    overlap = max(0, min(predicted[1], truth[1]) - max(predicted[0], truth[0]))
    union = (predicted[1] - predicted[0]) + (truth[1] - truth[0]) - overlap
    return overlap / union if union > 0 else 0.0


class UnscorableTruthWarning(UserWarning):
    """A grounding ground truth no answer can match (``"0.0-0.0"``, malformed): the item scores 0."""


UNSCORABLE = "unscorable ground truth"


def score(response: str, ground_truth: str) -> RewardResult:
    """Smooth = IoU, strict = both endpoints equal (to 0.1 s).

    A ground truth that is not a valid interval (``"0.0-0.0"`` from a degenerate video, or
    malformed) scores 0 with an :class:`UnscorableTruthWarning` instead of raising, so one bad row
    never ends a training run, a scoring or a replayed evaluation; ``format_ok`` still says whether
    the response itself was well formed, and ``reason`` starts with ``"unscorable ground truth"``.
    """
    try:
        truth = parse_ground_truth(ground_truth)
    except ValueError as exc:
        warnings.warn(f"{exc}; the response scores 0", UnscorableTruthWarning, stacklevel=2)
        truth = None
    answer, reason = locate_answer(response)
    if answer is None:
        return failure(TASK, reason, DETAIL_NAMES)
    interval, reason = parse_interval(answer)
    if interval is None:
        return failure(TASK, reason, DETAIL_NAMES)
    if truth is None:
        return RewardResult(TASK, 0.0, 0.0, True, UNSCORABLE, (("iou", 0.0), ("viubench", 0.0)))
    overlap = iou(interval, truth)
    exact = 1.0 if interval == truth else 0.0
    return RewardResult(TASK, overlap, exact, True, "", (("iou", overlap), ("viubench", overlap)))
