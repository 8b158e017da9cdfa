"""Grouped bar chart (PNG): the 9 subsets and Overall, one bar per row (yours, then published)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from videossr import atomic
from videossr.viubench.subsets import BENCH_VERSION, SUBSET_INFO, SUBSETS
from videossr.viubench.table import TableRow


def _tick(name: str) -> str:
    info = SUBSET_INFO[name]
    return f"{info.task.capitalize()}\n{info.label}"


def plot_rows(rows: list[TableRow], path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write the chart to ``path`` (atomically); hatched bars are published rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = [*(_tick(s) for s in SUBSETS), "Overall"]
    x = np.arange(len(labels))
    width = 0.8 / max(1, len(rows))
    fig, ax = plt.subplots(figsize=(max(10, 1.3 * len(labels)), 5.2), dpi=110)
    colors = plt.get_cmap("tab10")
    for k, row in enumerate(rows):
        values = [row.subsets[s] for s in SUBSETS] + [row.overall]
        heights = [0.0 if v is None else v for v in values]
        ax.bar(x - 0.4 + width * (k + 0.5), heights, width, label=row.label, color=colors(k % 10),
               hatch="//" if row.published else None, edgecolor="white" if row.published else None, linewidth=0)
    ax.axvline(len(SUBSETS) - 0.5, color="0.6", linewidth=0.8, linestyle=":")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("score (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", color="0.9")
    ax.set_axisbelow(True)
    ax.set_title(title or f"VIUBench {BENCH_VERSION}")
    ax.legend(fontsize=8, ncol=min(5, len(rows)), loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return atomic.write_bytes(path, buffer.getvalue())
