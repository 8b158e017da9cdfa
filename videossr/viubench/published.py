"""The paper's published VIUBench table (13 models and the Random Guess row), shipped as package
data (``published.csv``).

Numbers are kept exactly as printed, averages included: the paper's Seed1.5-VL averages do not
equal the mean of its own subset scores, and we show them as printed. The paper prints no
ability averages; :attr:`PublishedRow.abilities` computes them from the printed subsets.

The Random Guess row (group ``baseline``): its counting (11.1, 6.3) and jigsaw (0.1, 0.0)
numbers are the analytic chance values (1/9 and 1/16 per shape, 1/720 and 1/40320 per order);
its grounding numbers (25.2-25.9) are those of the whole-video interval (expected IoU
E[length] / 48 = 25 %), not of a uniform random interval (about 20 %). ``videossr viubench
baseline chance`` makes that baseline; the table's ``chance (analytic)`` row is its expectation.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from statistics import fmean

from videossr.names import unknown
from videossr.viubench.subsets import ABILITIES, SUBSETS, TASKS, subsets_of_ability

CSV_NAME = "published.csv"
AVERAGE_COLUMNS = {"counting": "avg_counting", "grounding": "avg_grounding", "jigsaw": "avg_jigsaw"}


@dataclass(frozen=True)
class PublishedRow:
    """One model's published scores, in percent."""

    model: str
    group: str  # closed | open | baseline
    subsets: dict[str, float]
    tasks: dict[str, float]  # as printed
    overall: float  # as printed

    @property
    def abilities(self) -> dict[str, float]:
        """Ability averages computed from the printed subsets (the paper prints none)."""
        return {a: fmean(self.subsets[s] for s in subsets_of_ability(a)) for a in ABILITIES}


@lru_cache(maxsize=1)
def published_rows() -> tuple[PublishedRow, ...]:
    """Every published row, in the paper's order."""
    text = resources.files("videossr.viubench").joinpath(CSV_NAME).read_text(encoding="utf-8")
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        rows.append(PublishedRow(
            model=raw["model"], group=raw["group"], subsets={s: float(raw[s]) for s in SUBSETS},
            tasks={t: float(raw[AVERAGE_COLUMNS[t]]) for t in TASKS}, overall=float(raw["overall"]),
        ))
    return tuple(rows)


def published_models() -> list[str]:
    return [row.model for row in published_rows()]


def select(models: list[str] | None) -> list[PublishedRow]:
    """Published rows by model name (case-insensitive); None or ``["all"]`` gives every row."""
    rows = published_rows()
    if not models or [m.lower() for m in models] == ["all"]:
        return list(rows)
    by_name = {row.model.lower(): row for row in rows}
    chosen = []
    for name in models:
        if name.lower() not in by_name:
            raise unknown("published model", name, published_models())
        chosen.append(by_name[name.lower()])
    return chosen
