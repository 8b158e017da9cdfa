"""The paper's published VIUBench table (13 models), shipped as package data (``published.csv``).

Numbers are kept exactly as printed, averages included: the paper's Seed1.5-VL averages do not
equal the mean of its own subset scores, and we show them as printed. The paper prints no
ability averages; :attr:`PublishedRow.abilities` computes them from the printed subsets.
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
    group: str  # closed | open
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
