"""Outside-benchmark metrics: option letters for multiple-choice VQA, IoU / R@k for temporal grounding.

VQA (:func:`extract_letter`): the answer region (reasoning in ``<think>`` dropped, ``<answer>``
blocks preferred, see :func:`videossr.rewards.parsing.locate_answer`) must be one of

* a bare letter: ``C``, ``(C)``, ``[C]``, optionally followed by ``.``, ``)``, ``:`` or ``,`` and
  any text (``C. A dog``, ``C) A dog``, ``(C) A dog``);
* a sentence naming it: ``The answer is C``, ``Answer: (C)``, ``The correct option is C.``
  (no other option letter may stand alone in it: ``The answer is C or D`` is unparsed)

and the letter must be one of the question's options (``A.``/``(A)`` lines of the question; A-Z
when it lists none). Anything else (``A dog runs``, two different letters, lower case) is
unparsed: wrong, and counted as unparsed. This is stricter than the upstream scripts' first
character and never guesses.

VTG (:func:`interval_iou`): the prediction is read with the grounding reward's parser (two
times, ``start-end`` or prose, clock times; rounded to 0.1 s) on the model's time axis (frame
``i`` at ``i / sample_fps``), mapped to source-video seconds through the kept frames' own
timestamps (:func:`to_source_seconds`), then IoU against the true interval in seconds; R@k = 1
when IoU >= k. Unparsed predictions score 0 and are counted, never dropped.
"""

from __future__ import annotations

import re

from videossr.rewards.grounding import parse_interval
from videossr.rewards.parsing import locate_answer

RECALL_THRESHOLDS = (0.3, 0.5, 0.7)

_LEAD_LETTER = re.compile(r"\s*[(\[]?([A-Z])[)\]]?(?:\s*$|[.:),]|\s*[)\]])", re.ASCII)
_BRACKETED_LEAD = re.compile(r"\s*[(\[]([A-Z])[)\]]", re.ASCII)
_SENTENCE_LETTER = re.compile(r"\b(?:answer|option|choice)\b(?:\s+(?:is|would be|should be))?\s*[:：]?\s*[(\[]?([A-Z])[)\]]?(?![A-Za-z0-9])", re.IGNORECASE)
_STANDALONE_CAPITAL = re.compile(r"(?<![A-Za-z0-9])([A-Z])(?![A-Za-z0-9])")
_OPTION_LINE = re.compile(r"^\s*[(\[]?([A-Z])[).\]:]\s+\S", re.MULTILINE)
_TRUTH_INTERVAL = re.compile(r"\s*\[?\s*(\d+(?:\.\d+)?)\s*(?:-|,|to)\s*(\d+(?:\.\d+)?)\s*\]?\s*")


def option_letters(question: str) -> str:
    """The option letters a question lists (``A. ...`` / ``(B) ...`` lines), or A-Z when none."""
    letters = sorted(set(_OPTION_LINE.findall(question)))
    return "".join(letters) if len(letters) >= 2 else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def extract_letter(text: str, options: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ") -> str | None:
    """The option letter an output names, or ``None`` when it names none (or several)."""
    region, _ = locate_answer(text if isinstance(text, str) else "")
    if region is None:
        return None
    region = region.strip()
    for pattern in (_LEAD_LETTER, _BRACKETED_LEAD):
        match = pattern.match(region)
        if match:
            letter = match.group(1)
            return letter if letter in options else None
    named = {m.group(1) for m in _SENTENCE_LETTER.finditer(region)}
    named = {letter for letter in named if letter.isupper()}
    if len(named) != 1:
        return None
    letter = named.pop()
    others = set(_STANDALONE_CAPITAL.findall(region)) & set(options)
    return letter if letter in options and others <= {letter} else None


def parse_truth_interval(answer: str) -> tuple[float, float]:
    """``"3.2-8.75"`` (or ``[3.2, 8.75]``) -> (3.2, 8.75) seconds; ValueError when malformed."""
    match = _TRUTH_INTERVAL.fullmatch(str(answer))
    if not match:
        raise ValueError(f"a VTG answer must look like 'start-end' in seconds, got {answer!r}")
    start, end = float(match.group(1)), float(match.group(2))
    if not start < end:
        raise ValueError(f"a VTG answer needs start < end, got {answer!r}")
    return start, end


def predicted_interval(text: str) -> tuple[float, float] | None:
    """The (start, end) seconds an output names, or ``None`` (unparsed)."""
    region, _ = locate_answer(text if isinstance(text, str) else "")
    if region is None:
        return None
    tenths, _ = parse_interval(region)
    return None if tenths is None else (tenths[0] / 10.0, tenths[1] / 10.0)


def to_source_seconds(model_s: float, sample_fps: float, pts_seconds: tuple[float, ...]) -> float:
    """A time on the model's axis (frame ``i`` at ``i / sample_fps``) as seconds of the source video.

    Linear between the kept frames' own timestamps (``pts_seconds``); past the last frame it
    goes on at the last frame step, before the first it is the first frame's time.
    """
    position = max(0.0, model_s * sample_fps)
    last = len(pts_seconds) - 1
    if last < 1:
        return pts_seconds[0] + model_s if pts_seconds else model_s
    i = min(int(position), last - 1)
    step = pts_seconds[i + 1] - pts_seconds[i]
    return pts_seconds[i] + (position - i) * step


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
