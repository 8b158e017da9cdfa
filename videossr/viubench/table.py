"""The paper-layout table (text and CSV): your rows, optionally beside the published rows.

Main table, percent with one decimal, columns in the paper's order::

    model        | Counting Easy Hard Avg | Grounding ChSwap Rotate ZoomOut Mirror Shuffle Avg | Jigsaw Easy Hard Avg | Overall

then the ability averages (fine-grained / spatial / temporal) and, for scored predictions, the
per-subset counts of items, missing and unparsable predictions and the format-failure rate. A
scored row may carry its bootstrap 95 % intervals, printed as a ``±`` line (half the interval's
width) under it; :meth:`TableRow.chance` is the analytic chance row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from statistics import fmean

from videossr.viubench.published import AVERAGE_COLUMNS, PublishedRow
from videossr.viubench.scorer import Report, percent
from videossr.viubench.subsets import ABILITIES, BENCH_VERSION, SUBSET_INFO, SUBSETS, TASKS, subsets_of_ability, subsets_of_task

LABEL_WIDTH = 36  # fits "Qwen3-VL-235B-A22B-Instruct (paper)"
CHANCE_LABEL = "chance (analytic)"
CI_LABEL = "  +/- 95% CI (bootstrap)"
TASK_TITLES = {"counting": "Counting", "grounding": "Grounding", "jigsaw": "Jigsaw"}


@dataclass(frozen=True)
class TableRow:
    """One row of the table, in percent (None: no items)."""

    label: str
    subsets: dict[str, float | None]
    tasks: dict[str, float | None]
    abilities: dict[str, float | None]
    overall: float | None
    published: bool = False
    source: str = "scored"  # scored | paper | analytic
    ci: dict | None = None  # bootstrap intervals (videossr.viubench.intervals), percent

    @classmethod
    def from_report(cls, report: Report, *, ci: bool = False, ci_seed: int = 0) -> "TableRow":
        pct = percent
        return cls(report.label, {s: pct(report.subset_score(s)) for s in SUBSETS}, {t: pct(report.task_score(t)) for t in TASKS},
                   {a: pct(report.ability_score(a)) for a in ABILITIES}, pct(report.overall),
                   ci=report.intervals(seed=ci_seed) if ci and report.items else None)

    @classmethod
    def from_published(cls, row: PublishedRow) -> "TableRow":
        return cls(f"{row.model} (paper)", dict(row.subsets), dict(row.tasks), row.abilities, row.overall, published=True, source="paper")

    @classmethod
    def chance(cls) -> "TableRow":
        """The analytic chance row (``videossr.viubench.baselines.analytic_chance``), averaged as a report is."""
        from videossr.viubench.baselines import analytic_chance

        values = {name: 100.0 * p for name, p in analytic_chance().items()}
        mean = lambda names: fmean(values[n] for n in names)  # noqa: E731
        return cls(CHANCE_LABEL, values, {t: mean(subsets_of_task(t)) for t in TASKS}, {a: mean(subsets_of_ability(a)) for a in ABILITIES},
                   mean(SUBSETS), source="analytic")


def _num(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.1f}"


def _columns() -> list[tuple[str, str, str | None]]:
    """(task group, header, key) per numeric column: subsets then the task average; Overall last."""
    cols = []
    for task in TASKS:
        cols += [(task, SUBSET_INFO[s].label, s) for s in subsets_of_task(task)]
        cols.append((task, "Avg", f"avg:{task}"))
    return cols


def _value(row: TableRow, key: str) -> float | None:
    return row.tasks[key[4:]] if key.startswith("avg:") else row.subsets[key]


def _half_width(interval: list[float] | None) -> float | None:
    return None if interval is None else (interval[1] - interval[0]) / 2


def _ci_value(row: TableRow, key: str) -> float | None:
    return _half_width(row.ci["tasks"][key[4:]] if key.startswith("avg:") else row.ci["subsets"][key])


def format_table(rows: list[TableRow], *, title: str | None = None) -> str:
    """The main table and the ability table, one line per row."""
    cols = _columns()
    widths = [max(6, len(header)) for _, header, _ in cols]
    group_line, header_line = " " * LABEL_WIDTH, f"{'model':<{LABEL_WIDTH}}"
    for task in TASKS:
        span = sum(w + 1 for (t, _, _), w in zip(cols, widths) if t == task)
        group_line += f" |{TASK_TITLES[task]:^{span}}"
        header_line += " |" + "".join(f" {h:>{w}}" for (t, h, _), w in zip(cols, widths) if t == task)
    group_line += " |"
    header_line += " | Overall"
    lines = [title or f"VIUBench {BENCH_VERSION} (percent)", group_line, header_line]
    for row in rows:
        line = f"{row.label[:LABEL_WIDTH]:<{LABEL_WIDTH}}"
        for task in TASKS:
            line += " |" + "".join(f" {_num(_value(row, k), w)}" for (t, _, k), w in zip(cols, widths) if t == task)
        lines.append(line + f" | {_num(row.overall, 7)}")
        if row.ci:
            line = f"{CI_LABEL:<{LABEL_WIDTH}}"
            for task in TASKS:
                line += " |" + "".join(f" {_num(_ci_value(row, k), w)}" for (t, _, k), w in zip(cols, widths) if t == task)
            lines.append(line + f" | {_num(_half_width(row.ci['overall']), 7)}")
    lines += ["", f"{'ability':<{LABEL_WIDTH}}" + "".join(f" {a:>12}" for a in ABILITIES)]
    for row in rows:
        lines.append(f"{row.label[:LABEL_WIDTH]:<{LABEL_WIDTH}}" + "".join(f" {_num(row.abilities[a], 12)}" for a in ABILITIES))
        if row.ci:
            lines.append(f"{CI_LABEL:<{LABEL_WIDTH}}" + "".join(f" {_num(_half_width(row.ci['abilities'][a]), 12)}" for a in ABILITIES))
    if any(r.ci for r in rows):
        lines.append("+/- lines: half the width of the bootstrap 95 % interval over items (seeded; the JSON report has the intervals)")
    if any(r.source == "analytic" for r in rows):
        lines.append(f"{CHANCE_LABEL}: expected score of the chance baseline (counting 1/9 and 1/16 per shape, jigsaw 1/n!, grounding the "
                     "whole-video interval's E[length]/48); `videossr viubench baseline chance` samples it")
    if any(r.published for r in rows):
        lines.append("published rows as printed in the paper; their ability averages are computed from the printed subsets")
    return "\n".join(lines)


def format_counts(report: Report) -> str:
    """Per subset: items, answered, missing and unparsable predictions (both score 0), the
    format-failure rate (unparsable / answered, with the report's parser), score."""
    lines = [f"{'subset':<24} {'items':>6} {'answered':>9} {'missing':>8} {'unparsable':>11} {'format fail %':>14} {'score':>6}"]
    for name, s in report.subsets.items():
        lines.append(f"{name:<24} {s.items:>6} {s.answered:>9} {s.missing:>8} {s.unparsable:>11} {_num(percent(s.format_failure_rate), 14)} "
                     f"{_num(percent(s.score), 6)}")
    notes = []
    if report.unknown_ids:
        notes.append(f"{report.unknown_ids} prediction(s) name ids that are not items of this benchmark (ignored)")
    if not report.versioned:
        notes.append(f"some prediction lines carry no viubench_version (not checked against {BENCH_VERSION})")
    if not report.complete:
        notes.append("some subsets have no items: averages and Overall are over the subsets that have")
    return "\n".join(lines + notes)


CSV_COLUMNS = ["model", "source", *SUBSETS, *(AVERAGE_COLUMNS[t] for t in TASKS), "overall", *(f"avg_{a.replace('-', '_')}" for a in ABILITIES),
               "viubench_version"]


def to_csv(rows: list[TableRow]) -> str:
    """CSV with the published table's columns (+ source, ability averages and, for scored rows, the
    benchmark version), one decimal."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    fmt = lambda v: "" if v is None else f"{v:.1f}"  # noqa: E731
    for row in rows:
        writer.writerow([row.label, row.source, *(fmt(row.subsets[s]) for s in SUBSETS),
                         *(fmt(row.tasks[t]) for t in TASKS), fmt(row.overall), *(fmt(row.abilities[a]) for a in ABILITIES),
                         BENCH_VERSION if row.source == "scored" else ""])
    return buffer.getvalue()
