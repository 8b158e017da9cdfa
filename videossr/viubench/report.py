"""``videossr viubench score``: score prediction files, print the paper-layout table, write JSON/CSV/PNG."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from videossr import atomic
from videossr.viubench.items import load_bench
from videossr.viubench.parsers import DEFAULT_PARSER
from videossr.viubench.published import PublishedRow, select
from videossr.viubench.scorer import Report, score_file
from videossr.viubench.subsets import BENCH_VERSION, PAPER_PER_SUBSET, SUBSETS
from videossr.viubench.table import TableRow, format_counts, format_table, to_csv

COMPARE_CAVEAT = (f"note: a self-built VIUBench is comparable with the published rows in definition (same tasks, generators, answer "
                  f"formats and metrics), not item for item: the paper's {len(SUBSETS) * PAPER_PER_SUBSET:,} items are the official "
                  "release, a separate download")


@dataclass
class Scored:
    """Reports of one or more prediction files on one benchmark, plus the published rows asked for."""

    reports: list[Report]
    published: list[PublishedRow]
    parser: str = DEFAULT_PARSER
    ci: bool = False  # print bootstrap intervals under each scored row
    ci_seed: int = 0

    def rows(self, published: list[PublishedRow] | None = None, *, chance: bool = True) -> list[TableRow]:
        chosen = self.published if published is None else published
        return ([TableRow.from_report(r, ci=self.ci, ci_seed=self.ci_seed) for r in self.reports] + ([TableRow.chance()] if chance else [])
                + [TableRow.from_published(p) for p in chosen])

    def text(self) -> str:
        title = f"VIUBench {BENCH_VERSION} (percent; answers read by the {self.parser} parser)"
        parts = [format_table(self.rows(), title=title)]
        if self.published:
            parts.append(COMPARE_CAVEAT)
        for report in self.reports:
            parts.append(f"\n{report.label}: predictions per subset (missing and unparsable score 0; {report.parser} parser)\n{format_counts(report)}")
        return "\n".join(parts)

    def to_dict(self) -> dict:
        published = [{"model": p.model, "group": p.group, "subsets": p.subsets, "tasks": p.tasks, "overall": p.overall,
                      "abilities": p.abilities, "as_printed": True} for p in self.published]
        chance = TableRow.chance()
        return {"viubench_version": BENCH_VERSION, "units": "percent", "parser": self.parser,
                "reports": [r.to_dict(ci_seed=self.ci_seed) for r in self.reports],
                "chance": {"subsets": chance.subsets, "tasks": chance.tasks, "abilities": chance.abilities, "overall": chance.overall, "analytic": True},
                "published": published, **({"caveat": COMPARE_CAVEAT} if self.published else {})}


def score_files(predictions: list[str | os.PathLike], bench_dir: str | os.PathLike, *, compare: list[str] | None = None,
                parser: str = DEFAULT_PARSER, ci: bool = False, ci_seed: int = 0) -> Scored:
    """Score each predictions file (one report each; labels are the file stems, made unique).

    ``compare``: published model names to show beside, ``[]`` for all of them, None for none.
    ``parser``: how answers are read (``paper`` or ``robust``, see videossr.viubench.parsers).
    ``ci``: print bootstrap 95 % intervals (seeded by ``ci_seed``) in the table; the JSON always has them.
    """
    meta, items = load_bench(bench_dir)
    reports, seen = [], set()
    for path in predictions:
        label = Path(path).stem
        while label in seen:
            label += "'"
        seen.add(label)
        reports.append(score_file(path, meta, items, label=label, parser=parser))
    return Scored(reports, select(compare) if compare is not None else [], parser=parser, ci=ci, ci_seed=ci_seed)


def score_command(predictions: list[str | os.PathLike], bench_dir: str | os.PathLike, *, compare: list[str] | None = None,
                  plot_models: tuple[str, ...] = (), json_path=None, csv_path=None, plot_path=None, parser: str = DEFAULT_PARSER,
                  ci: bool = False, ci_seed: int = 0) -> int:
    """Print the table and write the requested files; exit code 1 when no file answered any item."""
    scored = score_files(predictions, bench_dir, compare=compare, parser=parser, ci=ci, ci_seed=ci_seed)
    print(scored.text())
    if json_path:
        atomic.write_json(json_path, scored.to_dict())
    if csv_path:
        atomic.write_text(csv_path, to_csv(scored.rows()))
    if plot_path:
        from videossr.viubench.plot import plot_rows

        shown = scored.published if compare else select(list(plot_models))
        plot_rows(scored.rows(shown, chance=False), plot_path)
    written = [str(p) for p in (json_path, csv_path, plot_path) if p]
    if written:
        print("wrote " + ", ".join(written))
    if not any(s.answered for r in scored.reports for s in r.subsets.values()):
        print("error: no prediction matched an item of the benchmark (wrong --bench?)", file=sys.stderr)
        return 1
    return 0
