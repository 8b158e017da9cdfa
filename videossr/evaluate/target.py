"""What an evaluation runs over: a :class:`Target` of :class:`EvalItem` and the scorer for them.

The types only; :func:`videossr.evaluate.loading.load_target` tells a path's kind and calls the
loader of that kind. Three kinds of target:

* a VIUBench folder (``bench.json`` + ``items.jsonl``, from ``videossr viubench build``), scored
  with the VIUBench scorer (``videossr.viubench.score_item``) and reported in the paper layout;
* a ``videossr build`` dataset (a folder with ``train.parquet``, or a parquet file), scored with
  our rewards (smooth, strict, format failures per task and variant);
* an outside benchmark: a JSON list of ``{video, question, answer}`` plus ``video_dir``, as
  multiple-choice VQA (option-letter accuracy) or temporal grounding (mIoU, R@0.3/0.5/0.7),
  ``task="vqa"|"vtg"`` or detected from the answers.

Every item carries its :class:`~videossr.backends.base.Request` (or a ``load_error`` when its
video could not be read: an item error, never a crash), the ground truth, and group labels
(task / variant / subset) for the report. ``Target.score(item, text)`` gives an
:class:`ItemScore`: score in [0, 1], strict 0/1, the parsed answer (``None`` when unparsed) and
``format_ok``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from videossr.backends.base import Request

TARGET_KINDS = ("viubench", "dataset", "vqa", "vtg")
DEFAULT_MAX_FRAMES = 32  # outside benchmarks: fps 2 capped at 32 (the paper also reports 48 and 64)


@dataclass(frozen=True)
class ItemScore:
    """One output scored: ``score`` in [0, 1] (the target's main metric), ``strict`` 0/1,
    ``parsed`` (the answer read from the output, ``None`` when nothing could be read) and
    ``format_ok``. ``metrics`` holds extra per-item values the report averages (e.g. ``r@0.5``)."""

    score: float
    strict: float
    parsed: str | None
    format_ok: bool
    metrics: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict:
        return {"score": self.score, "strict": self.strict, "parsed": self.parsed, "format_ok": self.format_ok, **dict(self.metrics)}

    @classmethod
    def from_reward(cls, result, text: str, score: float) -> "ItemScore":
        """``score`` with the strict value and format check of a :class:`videossr.rewards.RewardResult`
        for ``text``; ``parsed`` is the answer region the reward read (``None`` on a format failure)."""
        from videossr.rewards.parsing import locate_answer

        parsed = locate_answer(text)[0] if result.format_ok else None
        return cls(score=score, strict=result.strict, parsed=parsed.strip() if parsed is not None else None, format_ok=result.format_ok)


@dataclass(frozen=True)
class EvalItem:
    """One question: ``id`` (unique in the target), the request, the ground truth and group labels.

    ``groups`` maps label names to values, e.g. ``{"task": "grounding", "variant": "mirror"}``
    or ``{"subset": "jigsaw_easy"}``; ``payload`` is whatever the target's scorer needs beyond
    the ground truth (e.g. the VIUBench item). ``load_error`` is set (and ``request`` is None)
    when the item's input could not be read.
    """

    id: str
    request: Request | None
    ground_truth: str
    groups: dict = field(default_factory=dict, hash=False, compare=False)
    payload: object = field(default=None, repr=False, hash=False, compare=False)
    load_error: str | None = None


@dataclass(frozen=True)
class Target:
    """The items of one benchmark, how to score one output, and how to build the report.

    ``scorer(item, text) -> ItemScore``; ``reporter(target, results, label=...) -> dict`` where results maps
    item id to the list of :class:`ItemScore` of its outputs (missing ids: not answered).
    ``info`` is what identifies the target in predictions and reports (kind, path, version,
    sampling settings).
    """

    kind: str
    path: str
    items: tuple[EvalItem, ...]
    scorer: Callable[[EvalItem, str], ItemScore] = field(repr=False)
    reporter: Callable[["Target", dict], dict] = field(repr=False)
    info: dict = field(default_factory=dict, hash=False, compare=False)
    table: Callable[[dict], str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Target(kind={self.kind!r}, path={self.path!r}, items={len(self.items)})"

    @property
    def fingerprint(self) -> str:
        """What binds a predictions line to this target: its kind and the content digest of its
        source (``info["fingerprint"]``, set by :func:`videossr.evaluate.loading.load_target`)."""
        return f"{self.kind}:{self.info.get('fingerprint') or ''}"

    def score(self, item: EvalItem, text: str) -> ItemScore:
        return self.scorer(item, text)

    def report(self, results: dict, *, label: str = "model") -> dict:
        """The report over ``results`` ({item id: [ItemScore, ...]}); ``label`` names the model."""
        return self.reporter(self, results, label=label)

    def format_table(self, report: dict) -> str:
        """The human-readable table of a report (the target's own layout)."""
        from videossr.evaluate.report import format_generic

        return self.table(report) if self.table is not None else format_generic(report)
