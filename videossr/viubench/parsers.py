"""How an answer is read when it is scored: ``paper`` (the paper's bare formats) or ``robust``.

``paper`` (the default of ``videossr viubench score``, ``videossr eval`` on a VIUBench folder and
``videossr score``) reads only the bare answer formats the paper's scorers read (PAPER.md,
"Answer parsing in the paper's scorers"); the response is taken as it is, surrounding
whitespace stripped, with no tags, words or units read:

* grounding: the whole answer is exactly ``number-number`` (``12.5-20``; ASCII digits, an
  optional decimal part, no spaces, no sign); start after end is a format failure. The IoU is
  computed on the numbers as written (no rounding to the 0.1 s grid);
* counting: every run of ASCII digits in the answer, exactly three of them, read in the order
  circles, squares, triangles (``3,1,4``, ``3 1 4``; ``3 circles, 1 square, 4 triangles`` is
  read positionally; ``2.5`` is two runs);
* jigsaw: the answer is a permutation of the answer's digits (``315264`` for ``524163``); for
  10 or more clips, the comma-separated numbers with no spaces (the answer's own format).

``robust`` is the training rewards' reading (``videossr.rewards``: ``<answer>`` tags, prose,
clock times, labelled counts, ``Clip 3, Clip 1, ...``), which the GRPO rewards always use.

Both return the same :class:`~videossr.rewards.RewardResult` (smooth and strict rewards, the
``viubench`` detail and the same detail names), so every report can use either.
"""

from __future__ import annotations

import re
from fractions import Fraction

from videossr.names import did_you_mean
from videossr.rewards import MODES, as_text, compute, task_for
from videossr.rewards import counting as counting_reward
from videossr.rewards import grounding as grounding_reward
from videossr.rewards import jigsaw as jigsaw_reward
from videossr.rewards.parsing import RewardResult, failure

PARSERS = ("paper", "robust")
DEFAULT_PARSER = "paper"

_INTERVAL_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)-([0-9]+(?:\.[0-9]+)?)")
_DIGIT_RUN_RE = re.compile(r"[0-9]+")
_MAX_COUNT_DIGITS = 18  # a longer digit run is read as this many nines (still a wrong count)


def check_parser(parser: str) -> str:
    if parser not in PARSERS:
        raise ValueError(f"unknown answer parser {parser!r}{did_you_mean(parser, PARSERS)} (choose {' or '.join(PARSERS)})")
    return parser


def _grounding(answer: str, ground_truth: str) -> RewardResult:
    task, names = grounding_reward.TASK, grounding_reward.DETAIL_NAMES
    truth_tenths = grounding_reward.parse_ground_truth(ground_truth)
    match = _INTERVAL_RE.fullmatch(answer)
    if match is None:
        return failure(task, "not a bare start-end interval", names)
    start, end = Fraction(match.group(1)), Fraction(match.group(2))
    if start > end:
        return failure(task, "start after end", names)
    truth = (Fraction(truth_tenths[0], 10), Fraction(truth_tenths[1], 10))
    overlap = float(grounding_reward.iou((start, end), truth))
    return RewardResult(task, overlap, 1.0 if (start, end) == truth else 0.0, True, "", (("iou", overlap), ("viubench", overlap)))


def _counting(answer: str, ground_truth: str) -> RewardResult:
    task, names = counting_reward.TASK, counting_reward.DETAIL_NAMES
    truth = counting_reward.parse_ground_truth(ground_truth)
    runs = _DIGIT_RUN_RE.findall(answer)
    if len(runs) != 3:
        return failure(task, f"{len(runs)} digit runs, not 3", names)
    counts = [int(run) if len(run) <= _MAX_COUNT_DIGITS else int("9" * _MAX_COUNT_DIGITS) for run in runs]
    smooth = sum(counting_reward.closeness(p, t) for p, t in zip(counts, truth)) / 3.0
    exact = [1.0 if p == t else 0.0 for p, t in zip(counts, truth)]
    per_shape = sum(exact) / 3.0
    return RewardResult(task, smooth, 1.0 if per_shape == 1.0 else 0.0, True, "", tuple(zip(names, (*exact, per_shape, per_shape))))


def _jigsaw(answer: str, ground_truth: str) -> RewardResult:
    task, names = jigsaw_reward.TASK, jigsaw_reward.DETAIL_NAMES
    truth = jigsaw_reward.parse_ground_truth(ground_truth)
    if len(truth) <= jigsaw_reward.MAX_COMPACT_CLIPS:
        readable = sorted(answer) == sorted(ground_truth.strip())
        order = tuple(int(digit) for digit in answer) if readable else None
    else:
        parts = answer.split(",")
        readable = all(p.isascii() and p.isdigit() and len(p) <= 2 for p in parts)
        order = tuple(int(p) for p in parts) if readable else None
        readable = readable and jigsaw_reward.is_permutation(order, len(truth))
    if not readable:
        return failure(task, f"not a permutation of the answer's {len(truth)} clip numbers", names)
    exact = 1.0 if order == truth else 0.0
    return RewardResult(task, jigsaw_reward.footrule_reward(order, truth), exact, True, "", (("exact", exact), ("viubench", exact)))


_PAPER = {"grounding": _grounding, "counting": _counting, "jigsaw": _jigsaw}


def read_answer(parser: str, data_source: str, response, ground_truth: str, mode: str = "smooth") -> RewardResult:
    """Score one response against its ground truth with ``parser`` (``paper`` or ``robust``).

    Raises ValueError for an unknown parser or data_source or a malformed ground truth (dataset
    or configuration bugs), never for anything the model wrote.
    """
    if check_parser(parser) == "robust":
        return compute(data_source, response, ground_truth, mode)
    if mode not in MODES:
        raise ValueError(f"unknown reward mode {mode!r}{did_you_mean(mode, MODES)}")
    return _PAPER[task_for(data_source)](as_text(response).strip(), ground_truth).with_mode(mode)
