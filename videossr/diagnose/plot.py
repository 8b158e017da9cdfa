"""The diagnostic figure: one row per task, strict and smooth side by side (PNG, matplotlib Agg).

Left panel (strict reward, the paper's Figure 1): the share of questions with 0..k correct
answers out of k; the bars at 0 and k (no reward variance, no GRPO signal) are drawn in red.
Right panel (smooth reward): the distribution of the per-question reward std, the std = 0 bar
(no signal) in red, with the zero-variance share and mean reward in the title.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from videossr import atomic
from videossr.diagnose.stats import STD_EPS, STD_MAX, GroupStats, task_rows

SIGNAL, NO_SIGNAL = "#3b75af", "#c8453c"


def _strict_panel(ax, s: GroupStats) -> None:
    shares = [c / s.questions for c in s.histogram]
    colors = [NO_SIGNAL if c in (0, s.k) else SIGNAL for c in range(s.k + 1)]
    ax.bar(range(s.k + 1), shares, color=colors, width=0.8)
    ax.set_xticks(range(s.k + 1))
    ax.set_xlabel(f"correct answers out of {s.k} (strict reward)")
    ax.set_ylabel("share of questions")
    ax.set_ylim(0, max(shares) * 1.18 + 1e-6)
    ax.set_title(f"{s.task} — strict: {s.zero_variance_strict:.0%} zero-variance (n={s.questions})", fontsize=10)
    for c, share in enumerate(shares):
        if share > 0:
            ax.text(c, share, f"{share:.0%}", ha="center", va="bottom", fontsize=7)


def _smooth_panel(ax, s: GroupStats) -> None:
    zero = [v for v in s.smooth_std_values if v <= STD_EPS]
    rest = [min(v, STD_MAX) for v in s.smooth_std_values if v > STD_EPS]
    weight = 1.0 / s.questions
    bins = [i * STD_MAX / 20 for i in range(21)]
    if rest:
        ax.hist(rest, bins=bins, weights=[weight] * len(rest), color=SIGNAL, label="reward varies")
    ax.bar([0.0], [len(zero) * weight], width=STD_MAX / 40, color=NO_SIGNAL, align="edge", label="std = 0 (no signal)")
    ax.set_xlim(-0.005, STD_MAX)
    ax.set_xlabel(f"std of the {s.k} smooth rewards of a question")
    ax.set_ylabel("share of questions")
    ax.set_title(f"smooth: {s.zero_variance_smooth:.0%} zero-variance, mean reward {s.mean_smooth:.2f}", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")


def plot_diagnosis(stats: list[GroupStats], path: str | os.PathLike, *, title: str = "") -> Path:
    """Write the figure for ``stats`` (from :func:`videossr.diagnose.stats.summarize`) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = task_rows(stats)
    if not rows:
        raise ValueError("nothing to plot: no scored question")
    fig, axes = plt.subplots(len(rows), 2, figsize=(11, 3.1 * len(rows) + 0.6), squeeze=False)
    for (left, right), s in zip(axes, rows):
        _strict_panel(left, s)
        _smooth_panel(right, s)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return atomic.write_bytes(path, buffer.getvalue())
