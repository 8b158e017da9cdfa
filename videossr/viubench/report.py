"""``videossr viubench score``: score prediction files, print the paper-layout table, write JSON/CSV/PNG."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from videossr import atomic
from videossr.viubench.published import PublishedRow, select
from videossr.viubench.items import load_bench
from videossr.viubench.scorer import Report, score_file
from videossr.viubench.subsets import BENCH_VERSION
from videossr.viubench.table import TableRow, format_counts, format_table, to_csv


@dataclass
class Scored:
    """Reports of one or more prediction files on one benchmark, plus the published rows asked for."""

    reports: list[Report]
    published: list[PublishedRow]

    def rows(self, published: list[PublishedRow] | None = None) -> list[TableRow]:
        chosen = self.published if published is None else published
        return [TableRow.from_report(r) for r in self.reports] + [TableRow.from_published(p) for p in chosen]

    def text(self) -> str:
        parts = [format_table(self.rows())]
        for report in self.reports:
            parts.append(f"\n{report.label}: predictions per subset (missing and unparsable score 0)\n{format_counts(report)}")
        return "\n".join(parts)

    def to_dict(self) -> dict:
        published = [{"model": p.model, "group": p.group, "subsets": p.subsets, "tasks": p.tasks, "overall": p.overall,
                      "abilities": p.abilities, "as_printed": True} for p in self.published]
        return {"viubench_version": BENCH_VERSION, "units": "percent", "reports": [r.to_dict() for r in self.reports], "published": published}


def score_files(predictions: list[str | os.PathLike], bench_dir: str | os.PathLike, *, compare: list[str] | None = None) -> Scored:
    """Score each predictions file (one report each; labels are the file stems, made unique).

    ``compare``: published model names to show beside, ``[]`` for all of them, None for none.
    """
    meta, items = load_bench(bench_dir)
    reports, seen = [], set()
    for path in predictions:
        label = Path(path).stem
        while label in seen:
            label += "'"
        seen.add(label)
        reports.append(score_file(path, meta, items, label=label))
    return Scored(reports, select(compare) if compare is not None else [])


def score_command(predictions: list[str | os.PathLike], bench_dir: str | os.PathLike, *, compare: list[str] | None = None,
                  plot_models: tuple[str, ...] = (), json_path=None, csv_path=None, plot_path=None) -> int:
    """Print the table and write the requested files; exit code 1 when no file answered any item."""
    scored = score_files(predictions, bench_dir, compare=compare)
    print(scored.text())
    if json_path:
        atomic.write_json(json_path, scored.to_dict())
    if csv_path:
        atomic.write_text(csv_path, to_csv(scored.rows()))
    if plot_path:
        from videossr.viubench.plot import plot_rows

        shown = scored.published if compare else select(list(plot_models))
        plot_rows(scored.rows(shown), plot_path)
    written = [str(p) for p in (json_path, csv_path, plot_path) if p]
    if written:
        print("wrote " + ", ".join(written))
    if not any(s.answered for r in scored.reports for s in r.subsets.values()):
        print("error: no prediction matched an item of the benchmark (wrong --bench?)", file=sys.stderr)
        return 1
    return 0
