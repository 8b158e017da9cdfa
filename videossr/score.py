"""Score model outputs against a dataset: the library behind ``videossr score``.

Predictions are JSONL, one object per line: ``{"sample_id": ..., "response": ...}`` (``index``,
matched against ``extra_info.index``, stands in for a missing ``sample_id``). The dataset is a
verl parquet (or a dataset folder holding ``train.parquet``) with ``data_source``,
``reward_model.ground_truth`` and ``extra_info.{sample_id, task, variant, index}``.

Every prediction line is scored (several responses per sample are fine; each counts). A sample
with no prediction counts once, as a format failure with reward 0, and is reported as missing.
Predictions whose key is not in the dataset are counted as unmatched and not scored.

``parser`` says how answers are read (videossr.viubench.parsers): ``robust`` (default) is the
training rewards' own reading, so the means are the rewards training would give; ``paper``
reads only the paper's bare answer formats, as VIUBench scores do.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from videossr.rewards import TASKS, task_for
from videossr.viubench.parsers import read_answer

ALL = "(all)"
DEFAULT_SCORE_PARSER = "robust"  # the rewards' reading: `videossr score` reports what training would reward
_DATASET_COLUMNS = ["data_source", "reward_model", "extra_info"]


@dataclass(frozen=True)
class GroupScore:
    """Means over one (task, variant) group; ``variant`` (and ``task``) is ``"(all)"`` for totals.

    The means are over ``predictions + missing`` items, a missing sample scoring 0.
    """

    task: str
    variant: str
    samples: int
    predictions: int
    missing: int
    smooth: float
    strict: float
    format_failure_rate: float


@dataclass(frozen=True)
class ScoreReport:
    groups: tuple[GroupScore, ...]  # per variant, then the task total, task by task; overall last
    unmatched_predictions: int
    predictions_path: str
    dataset_path: str
    parser: str = DEFAULT_SCORE_PARSER

    @property
    def overall(self) -> GroupScore:
        return self.groups[-1]

    def to_dict(self) -> dict:
        return {
            "predictions": self.predictions_path,
            "dataset": self.dataset_path,
            "parser": self.parser,
            "unmatched_predictions": self.unmatched_predictions,
            "groups": [asdict(group) for group in self.groups],
        }


class _Tally:
    def __init__(self) -> None:
        self.samples = self.predictions = self.missing = self.format_failures = 0
        self.smooth_sum = self.strict_sum = 0.0

    def add(self, smooth: float, strict: float, format_ok: bool) -> None:
        self.predictions += 1
        self.smooth_sum += smooth
        self.strict_sum += strict
        self.format_failures += 0 if format_ok else 1

    def add_missing(self) -> None:
        self.missing += 1
        self.format_failures += 1

    def merge(self, other: "_Tally") -> None:
        for name in ("samples", "predictions", "missing", "format_failures", "smooth_sum", "strict_sum"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def result(self, task: str, variant: str) -> GroupScore:
        items = self.predictions + self.missing
        mean = (lambda total: total / items) if items else (lambda total: 0.0)
        return GroupScore(task, variant, self.samples, self.predictions, self.missing,
                          mean(self.smooth_sum), mean(self.strict_sum), mean(float(self.format_failures)))


def load_dataset_rows(dataset_path: str | os.PathLike) -> list[dict]:
    """The scoring columns of a dataset parquet (or of a dataset folder's ``train.parquet``)."""
    import pyarrow.parquet as pq

    from videossr.export import TRAIN_FILE

    path = Path(dataset_path)
    path = path / TRAIN_FILE if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no dataset parquet at {path}")
    return pq.read_table(path, columns=_DATASET_COLUMNS).to_pylist()


def load_predictions(predictions_path: str | os.PathLike) -> list[dict]:
    """The prediction objects of a JSONL file (blank lines skipped)."""
    predictions = []
    with open(predictions_path, encoding="utf-8") as fh:
        for line_number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{predictions_path}:{line_number}: not JSON ({exc.msg})") from None
            if not isinstance(record, dict) or ("sample_id" not in record and "index" not in record):
                raise ValueError(f"{predictions_path}:{line_number}: need an object with 'sample_id' (or 'index') and 'response'")
            predictions.append(record)
    return predictions


def _unique_keys(rows: list[dict], field: str) -> dict:
    keyed: dict = {}
    for position, row in enumerate(rows):
        key = (row.get("extra_info") or {}).get(field)
        if key in keyed:
            raise ValueError(f"dataset extra_info.{field} {key!r} is not unique; predictions cannot be matched by it")
        keyed[key] = position
    return keyed


def _row_position(prediction: dict, by_sample_id: dict, by_index: dict | None) -> int | None:
    if "sample_id" in prediction:
        return by_sample_id.get(str(prediction["sample_id"]))
    try:
        return by_index.get(int(prediction["index"])) if by_index is not None else None
    except (TypeError, ValueError):
        return None


def score_predictions(predictions_path: str | os.PathLike, dataset_path: str | os.PathLike, *, parser: str = DEFAULT_SCORE_PARSER) -> ScoreReport:
    """Score every prediction against its dataset row; means per task and variant, smooth and strict."""
    rows = load_dataset_rows(dataset_path)
    predictions = load_predictions(predictions_path)
    by_sample_id = _unique_keys(rows, "sample_id") if any("sample_id" in p for p in predictions) else {}
    by_index = _unique_keys(rows, "index") if any("sample_id" not in p for p in predictions) else None
    scored = [0] * len(rows)
    tallies: dict[tuple[str, str], _Tally] = {}
    unmatched = 0
    for prediction in predictions:
        position = _row_position(prediction, by_sample_id, by_index)
        if position is None:
            unmatched += 1
            continue
        row = rows[position]
        result = read_answer(parser, row["data_source"], prediction.get("response"), row["reward_model"]["ground_truth"])
        _tally_for(tallies, row).add(result.score, result.strict, result.format_ok)
        scored[position] += 1
    for position, row in enumerate(rows):
        tally = _tally_for(tallies, row)
        tally.samples += 1
        if not scored[position]:
            tally.add_missing()
    return ScoreReport(_groups(tallies), unmatched, str(predictions_path), str(dataset_path), parser)


def _tally_for(tallies: dict, row: dict) -> _Tally:
    extra = row.get("extra_info") or {}
    key = (task_for(row["data_source"]), str(extra.get("variant") or "-"))
    return tallies.setdefault(key, _Tally())


def _groups(tallies: dict[tuple[str, str], _Tally]) -> tuple[GroupScore, ...]:
    groups: list[GroupScore] = []
    overall = _Tally()
    for task in TASKS:
        variants = sorted(variant for t, variant in tallies if t == task)
        if not variants:
            continue
        task_total = _Tally()
        for variant in variants:
            groups.append(tallies[(task, variant)].result(task, variant))
            task_total.merge(tallies[(task, variant)])
        groups.append(task_total.result(task, ALL))
        overall.merge(task_total)
    groups.append(overall.result(ALL, ALL))
    return tuple(groups)


def format_report(report: ScoreReport) -> str:
    """The report as an aligned text table (rewards in [0, 1], format failures in percent)."""
    header = ("task", "variant", "samples", "scored", "missing", "smooth", "strict", "format_fail")
    lines = [f"{header[0]:<10} {header[1]:<16} {header[2]:>7} {header[3]:>7} {header[4]:>7} {header[5]:>7} {header[6]:>7} {header[7]:>11}"]
    for group in report.groups:
        lines.append(
            f"{group.task:<10} {group.variant:<16} {group.samples:>7} {group.predictions:>7} {group.missing:>7} "
            f"{group.smooth:>7.3f} {group.strict:>7.3f} {100 * group.format_failure_rate:>10.1f}%"
        )
        if group.variant == ALL and group is not report.overall:
            lines.append("")
    lines.append(f"answers read by the {report.parser} parser")
    if report.unmatched_predictions:
        lines.append(f"warning: {report.unmatched_predictions} prediction(s) matched no dataset sample and were not scored")
    return "\n".join(lines)
