"""VIUBench scoring: the paper metric per item, per subset, task, ability and Overall.

Per item (PAPER.md): grounding = temporal IoU; counting = exact match per shape averaged over
the 3 shapes; jigsaw = exact match of the whole order. Answers are read by ``parser``
(:mod:`videossr.viubench.parsers`): ``paper`` (default), the paper's bare formats, or
``robust``, the training rewards' reading. A missing or unparsable prediction scores 0 and is
counted per subset (the format-failure rate is unparsable / answered).

Aggregates are unweighted means: a subset is the mean of its items, a task or ability the mean
of its subsets, Overall the mean of the 9 subsets. Scores are fractions in [0, 1] in the
library and percent in reports; a report keeps every item's score and gives seeded bootstrap
95 % intervals (:mod:`videossr.viubench.intervals`).

Predictions file (JSONL, one object per line)::

    {"id": "counting-easy-000000", "response": "3,1,4", "viubench_version": "viubench-1.1", "bench": "5f0c..."}

``id`` and ``response`` (raw model text) are required; other fields are ignored, so a runner's
own records (parsed answers, latency, ...) can be scored as they are. A line without
``response`` may carry ``responses`` or ``outputs`` (a list: the first is scored); a line with
neither (e.g. ``{"id", "error"}``) counts as missing. ``viubench_version``, when present, must be
this benchmark's version; ``bench`` (the folder's fingerprint from ``bench.json``), when
present, must match the folder being scored, so predictions made on another build (other seed
or videos, where the same ids ask other questions) are refused. A later line for the same id
replaces an earlier one (resumed runs).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Iterable

from videossr.errors import UserError
from videossr.rewards import RewardResult
from videossr.viubench.items import Item, check_version, load_bench
from videossr.viubench.parsers import DEFAULT_PARSER, read_answer
from videossr.viubench.subsets import ABILITIES, BENCH_VERSION, SUBSETS, TASKS, subsets_of_ability, subsets_of_task

METRIC = "viubench"  # the RewardResult detail every task scorer fills with the VIUBench item metric


def item_result(item: Item, response, *, parser: str = DEFAULT_PARSER) -> RewardResult:
    """The full reward result of one response (``detail("viubench")`` is the paper metric)."""
    return read_answer(parser, item.data_source, response, item.answer)


def score_answer(data_source: str, answer: str, response, *, parser: str = DEFAULT_PARSER) -> float:
    """The paper metric of ``response`` for a question of ``data_source`` whose truth is ``answer``."""
    return read_answer(parser, data_source, response, answer).detail(METRIC)


def score_item(item: Item, response, *, parser: str = DEFAULT_PARSER) -> float:
    """The paper metric of one response, in [0, 1]; unparsable answers score 0."""
    return score_answer(item.data_source, item.answer, response, parser=parser)


@dataclass(frozen=True)
class SubsetScore:
    name: str
    items: int
    answered: int  # items with a prediction
    missing: int  # items without one (score 0)
    unparsable: int  # predictions the parser could not read (score 0)
    score: float | None  # mean item metric in [0, 1]; None for a subset without items

    @property
    def format_failure_rate(self) -> float | None:
        """Unparsable predictions / answered items, in [0, 1] (None when nothing was answered)."""
        return self.unparsable / self.answered if self.answered else None


@dataclass(frozen=True)
class ItemOutcome:
    """One item's result: ``score`` in [0, 1] (None: no prediction, scored 0), ``unparsable`` the
    fraction of its outputs the parser could not read."""

    id: str
    subset: str
    score: float | None
    unparsable: float = 0.0

    def to_dict(self) -> dict:
        return {"id": self.id, "subset": self.subset, "score": percent(self.score), "answered": self.score is not None, "unparsable": self.unparsable}


@dataclass
class Report:
    """One model's VIUBench result. ``score`` values are fractions in [0, 1] (None: no items)."""

    label: str
    subsets: dict[str, SubsetScore]
    unknown_ids: int = 0  # predictions whose id is not an item of the benchmark
    versioned: bool = True  # every prediction line carried viubench_version
    bench: dict = field(default_factory=dict)  # bench.json facts (seed, fingerprint, per-subset counts)
    items: tuple[ItemOutcome, ...] = ()  # every item's score, in benchmark order
    parser: str = DEFAULT_PARSER  # how answers were read (videossr.viubench.parsers)

    @classmethod
    def from_outcomes(cls, label: str, outcomes: Iterable[ItemOutcome], **fields) -> "Report":
        outcomes = tuple(outcomes)
        return cls(label=label, subsets=subset_scores(outcomes), items=outcomes, **fields)

    def subset_score(self, name: str) -> float | None:
        return self.subsets[name].score

    def _mean(self, names) -> float | None:
        values = [self.subsets[n].score for n in names if self.subsets[n].score is not None]
        return fmean(values) if values else None

    def task_score(self, task: str) -> float | None:
        return self._mean(subsets_of_task(task))

    def ability_score(self, ability: str) -> float | None:
        return self._mean(subsets_of_ability(ability))

    @property
    def overall(self) -> float | None:
        return self._mean(SUBSETS)

    @property
    def complete(self) -> bool:
        """Every subset has items (Overall is then the mean of all 9)."""
        return all(s.items for s in self.subsets.values())

    def item_scores(self) -> dict[str, list[float]]:
        """{subset: [item score in [0, 1], ...]}, a missing prediction scoring 0."""
        per_subset: dict[str, list[float]] = {name: [] for name in SUBSETS}
        for outcome in self.items:
            per_subset[outcome.subset].append(0.0 if outcome.score is None else outcome.score)
        return per_subset

    def intervals(self, *, seed: int = 0) -> dict:
        """Seeded bootstrap 95 % intervals (percent) per subset, task, ability and Overall."""
        from videossr.viubench.intervals import bootstrap

        return bootstrap(self.item_scores(), seed=seed)

    def to_dict(self, *, ci_seed: int = 0) -> dict:
        """JSON report: fractions as percent (full precision), counts per subset, every item's
        score and the bootstrap intervals."""
        pct = percent
        return {
            "viubench_version": BENCH_VERSION, "label": self.label, "bench": self.bench, "parser": self.parser,
            "subsets": {n: {**asdict(s), "score": pct(s.score), "format_failure_rate": pct(s.format_failure_rate)} for n, s in self.subsets.items()},
            "tasks": {t: pct(self.task_score(t)) for t in TASKS},
            "abilities": {a: pct(self.ability_score(a)) for a in ABILITIES},
            "overall": pct(self.overall), "complete": self.complete,
            "items": sum(s.items for s in self.subsets.values()),
            "missing": sum(s.missing for s in self.subsets.values()),
            "unparsable": sum(s.unparsable for s in self.subsets.values()),
            "unknown_ids": self.unknown_ids, "versioned": self.versioned, "units": "percent",
            "ci95": self.intervals(seed=ci_seed) if self.items else None,
            "per_item": [outcome.to_dict() for outcome in self.items],
        }


def percent(value: float | None) -> float | None:
    """A fraction as percent (None stays None)."""
    return None if value is None else 100.0 * value


def subset_scores(outcomes: Iterable[ItemOutcome]) -> dict[str, SubsetScore]:
    """Per-subset scores from one :class:`ItemOutcome` per item (``unparsable`` fractions are
    summed per subset and rounded to a count)."""
    per_subset: dict[str, list[float]] = {name: [] for name in SUBSETS}
    missing = dict.fromkeys(SUBSETS, 0)
    unparsable = dict.fromkeys(SUBSETS, 0.0)
    for outcome in outcomes:
        missing[outcome.subset] += outcome.score is None
        per_subset[outcome.subset].append(0.0 if outcome.score is None else outcome.score)
        unparsable[outcome.subset] += outcome.unparsable
    return {
        name: SubsetScore(name, len(scores), len(scores) - missing[name], missing[name], round(unparsable[name]), fmean(scores) if scores else None)
        for name, scores in per_subset.items()
    }


def score_report(items: list[Item], responses: dict[str, str | None], *, label: str = "yours", parser: str = DEFAULT_PARSER) -> Report:
    """Score ``responses`` ({item id: raw text, or None for no answer}) over ``items``."""

    def outcome(item: Item) -> ItemOutcome:
        response = responses.get(item.id)
        if response is None:
            return ItemOutcome(item.id, item.subset, None)
        result = item_result(item, response, parser=parser)
        return ItemOutcome(item.id, item.subset, result.detail(METRIC), 0.0 if result.format_ok else 1.0)

    ids = {item.id for item in items}
    return Report.from_outcomes(label, map(outcome, items), unknown_ids=sum(1 for k in responses if k not in ids), parser=parser)


@dataclass
class Predictions:
    responses: dict[str, str | None]
    versioned: bool  # every line carried viubench_version


def _response_of(record: dict) -> str | None:
    response = record.get("response")
    if isinstance(response, str):
        return response
    for key in ("responses", "outputs"):
        values = record.get(key)
        if isinstance(values, list) and values and isinstance(values[0], str):
            return values[0]
    return None


def read_predictions(path: str | os.PathLike, *, fingerprint: str | None = None) -> Predictions:
    """Read a predictions JSONL (see the module doc); refuses another benchmark version or build."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"predictions file not found: {path}")
    responses: dict[str, str | None] = {}
    versioned = True
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{where} is not JSON ({exc.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise UserError(f'{where}: each line must be an object with a string "id" (and a "response")')
            if "viubench_version" in record:
                check_version(record["viubench_version"], f"{where} (predictions)")
            else:
                versioned = False
            if fingerprint and record.get("bench") not in (None, fingerprint):
                raise UserError(f"{where}: predictions were made on another VIUBench build (bench {record['bench']!r}, this folder is "
                                f"{fingerprint!r}: other seed or videos, so the same ids ask other questions); run the model on this folder")
            responses[record["id"]] = _response_of(record)
    return Predictions(responses, versioned)


def score_predictions(predictions: str | os.PathLike, bench_dir: str | os.PathLike, *, label: str | None = None, parser: str = DEFAULT_PARSER) -> Report:
    """Score a predictions file against a VIUBench folder."""
    meta, items = load_bench(bench_dir)
    return score_file(predictions, meta, items, label=label, parser=parser)


def score_file(predictions: str | os.PathLike, meta: dict, items: list[Item], *, label: str | None = None, parser: str = DEFAULT_PARSER) -> Report:
    """Score a predictions file against a loaded VIUBench folder (``meta, items = load_bench(BENCH)``)."""
    preds = read_predictions(predictions, fingerprint=meta.get("fingerprint"))
    report = score_report(items, preds.responses, label=label or Path(predictions).stem, parser=parser)
    report.versioned = preds.versioned
    report.bench = {k: meta.get(k) for k in ("fingerprint", "seed", "per_subset", "counts")}
    return report
