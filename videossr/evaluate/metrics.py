"""Outside-benchmark metrics: option letters for multiple-choice VQA, IoU / R@k for temporal grounding.

VQA: :func:`extract_letter` reads the option an output chose as a careful grader would, and
:func:`truth_letter` reads a ground truth ("B", "b", "(B)", "B. text") into its letter; see
:mod:`videossr.evaluate.choices` for the rules. An unparsed answer is wrong and counted.

VTG (:func:`predicted_interval`, :func:`interval_iou`): outside videos are shown to the model on
their own time axis (each frame at its time in the video, see :mod:`videossr.evaluate.outside`),
so a predicted interval is read in seconds of the video and scored as it is, with no mapping.
Two times are read (``3.1-5.0``, ``3.1s - 5.0s``, ``[3.1, 5.0]``, ``from 0:03 to 0:05``, ``between
3.1 and 5.0 seconds``, full-width digits) at full precision (``2.35-6.15`` stays so). When the
answer holds other numbers too ("In the 2 clips, the event happens at 3.1-5.0 seconds"), the one
range written as a range (``X-Y``, ``X to Y``, ``between X and Y``, ``[X, Y]``) or the one "starts
at X ... ends at Y" pair is the answer; two different ranges are unparsed. The interval is clipped
to the video (:func:`clip_interval`), then IoU against the true interval in seconds; R@k = 1 when
IoU >= k. Unparsed predictions score 0 and are counted, never dropped.
"""

from __future__ import annotations

import re

from videossr.evaluate.choices import extract_letter, option_letters, parse_options, truth_letter
from videossr.rewards.parsing import Number, find_numbers, locate_answer, unique_group

__all__ = ["RECALL_THRESHOLDS", "clip_interval", "extract_letter", "interval_iou", "option_letters", "parse_options", "parse_truth_interval",
           "predicted_interval", "recall_metrics", "truth_letter"]

RECALL_THRESHOLDS = (0.3, 0.5, 0.7)

_TRUTH_INTERVAL = re.compile(r"\s*\[?\s*(\d+(?:\.\d+)?)\s*(?:-|,|to)\s*(\d+(?:\.\d+)?)\s*\]?\s*")
_UNIT = r"(?:s|secs?|seconds?|秒)?"
_RANGE_GAP = re.compile(r"\s*" + _UNIT + r"\s*(?:-|–|—|~|～|to|until|till|through|and|至|到)\s*", re.IGNORECASE)
_APPROX = r"(?:around|about|approximately|roughly)?"
_START_WORD = re.compile(r"\b(?:start(?:s|ing)?|begin(?:s|ning)?)(?:\s+(?:time|point))?\s*(?:at|from|is|:|=)?\s*" + _APPROX + r"\s*$", re.IGNORECASE)
_END_WORD = re.compile(r"\b(?:end(?:s|ing)?|finish(?:es|ing)?|stops?)(?:\s+(?:time|point))?\s*(?:at|by|is|:|=)?\s*" + _APPROX + r"\s*$", re.IGNORECASE)
_CLOCK_SEPARATORS = (":", "\uff1a")


def parse_truth_interval(answer: str) -> tuple[float, float]:
    """``"3.2-8.75"`` (or ``[3.2, 8.75]``) -> (3.2, 8.75) seconds; ValueError when malformed."""
    match = _TRUTH_INTERVAL.fullmatch(str(answer))
    if not match:
        raise ValueError(f"a VTG answer must look like 'start-end' in seconds, got {answer!r}")
    start, end = float(match.group(1)), float(match.group(2))
    if not start < end:
        raise ValueError(f"a VTG answer needs start < end, got {answer!r}")
    return start, end


def _seconds(run: list[Number]) -> float | None:
    """One time from a number or an ``M:SS(.f)`` / ``H:MM:SS(.f)`` run of numbers, in seconds."""
    last = run[-1]
    seconds = int(last.int_digits) + (int(last.frac_digits) / 10 ** len(last.frac_digits) if last.frac_digits else 0.0)
    if len(run) > 1 and seconds >= 60 or len(run) == 3 and int(run[1].int_digits) >= 60:
        return None
    for power, part in enumerate(reversed(run[:-1]), start=1):
        seconds += int(part.int_digits) * 60**power
    return seconds


def _times(region: str) -> list[tuple[float, int, int, bool]] | None:
    """(seconds, start, end, negative) of each time in ``region`` (clock runs joined), or None (malformed)."""
    numbers, _ = find_numbers(region)
    if numbers is None:
        return None
    times, at = [], 0
    while at < len(numbers):
        run = [numbers[at]]
        while len(run) < 3 and at + 1 < len(numbers) and run[-1].is_integer and region[run[-1].end:numbers[at + 1].start] in _CLOCK_SEPARATORS:
            at += 1
            run.append(numbers[at])
        value = _seconds(run)
        if value is None:
            return None
        times.append((value, run[0].start, run[-1].end, any(n.negative for n in run)))
        at += 1
    return times


def _written_range(region: str, times: list) -> tuple[float, float] | None:
    """The single interval written as a range, or as "starts at X ... ends at Y", among other numbers."""
    ranges = set()
    for (a, _, a_end, _), (b, b_start, b_end, _) in zip(times, times[1:]):
        gap = region[a_end:b_start]
        bracketed = gap.strip() == "," and region[:a_end].rstrip("0123456789. ")[-1:] in ("[", "(") and region[b_end:].lstrip(" s")[:1] in ("]", ")")
        if bracketed or _RANGE_GAP.fullmatch(gap):
            ranges.add((a, b))
    if ranges:
        return ranges.pop() if len(ranges) == 1 else None
    starts = {t for t, begin, _, _ in times if _START_WORD.search(region[max(0, begin - 40):begin])}
    ends = {t for t, begin, _, _ in times if _END_WORD.search(region[max(0, begin - 40):begin])}
    return (starts.pop(), ends.pop()) if len(starts) == 1 and len(ends) == 1 else None


def predicted_interval(text: str) -> tuple[float, float] | None:
    """The (start, end) seconds an output names, or ``None`` (unparsed): see the module docstring."""
    region, _ = locate_answer(text if isinstance(text, str) else "")
    if region is None:
        return None
    times = _times(region)
    if not times:
        return None
    pair, _ = unique_group([t[0] for t in times], 2)
    if pair is not None and any(t[3] for t in times):
        return None  # "-3 to 5": a negative time
    if pair is None:
        pair = _written_range(region, times)
    if pair is None or pair[0] > pair[1]:
        return None
    return float(pair[0]), float(pair[1])


def clip_interval(interval: tuple[float, float] | None, duration_s: float) -> tuple[float, float] | None:
    """``interval`` limited to the video, [0, ``duration_s``] (``None`` stays ``None``)."""
    if interval is None:
        return None
    return min(max(interval[0], 0.0), duration_s), min(max(interval[1], 0.0), duration_s)


def interval_iou(predicted: tuple[float, float] | None, truth: tuple[float, float]) -> float:
    """Temporal IoU of two [start, end] intervals in seconds (0 for ``None``)."""
    if predicted is None:
        return 0.0
    inter = max(0.0, min(predicted[1], truth[1]) - max(predicted[0], truth[0]))
    union = max(predicted[1], truth[1]) - min(predicted[0], truth[0])
    return inter / union if union > 0 else 0.0


def recall_metrics(iou: float) -> tuple[tuple[str, float], ...]:
    """``(("r@0.3", 0/1), ("r@0.5", 0/1), ("r@0.7", 0/1))`` for one IoU."""
    return tuple((f"r@{k}", 1.0 if iou >= k - 1e-12 else 0.0) for k in RECALL_THRESHOLDS)
