"""Zero-variance statistics over groups of k sampled answers per question (the paper's Figure 1).

A :class:`Group` is one question answered k times: its labels (task, variant) and, per answer,
the strict reward (0/1), the smooth reward (in [0, 1]) and whether the format was readable.
:func:`summarize` turns a list of groups into one :class:`GroupStats` per (task, variant), per
task (variant ``"(all)"``) and overall (task ``"(all)"``):

* ``histogram`` — how many questions got 0, 1, ..., k strict-correct answers;
* ``zero_variance_strict`` — share of questions with 0 or k correct (no GRPO signal under the
  strict reward); ``zero_variance_smooth`` — share whose k smooth rewards are all equal;
* mean smooth and strict reward, format-failure rate;
* the distribution of the per-question (population) std of the smooth reward: quantiles and a
  histogram over [0, 0.5] (a reward in [0, 1] has std at most 0.5).

Pure Python + numpy, no model or file access; the runner feeds it eval results.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

ALL = "(all)"
STD_EPS = 1e-9  # smooth rewards closer than this count as equal
STD_BINS = 10  # histogram bins of the per-group smooth std over [0, STD_MAX]
STD_MAX = 0.5
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


@dataclass(frozen=True)
class Group:
    """One question answered ``k`` times: per-answer strict (0/1) and smooth rewards, format flags."""

    item_id: str
    task: str
    variant: str
    strict: tuple[float, ...]
    smooth: tuple[float, ...]
    format_ok: tuple[bool, ...] = ()
    identical_texts: bool = False  # all k output texts are the same string (sampling that is not sampling)

    def __post_init__(self) -> None:
        if len(self.strict) != len(self.smooth) or not self.strict:
            raise ValueError(f"group {self.item_id}: need the same non-zero number of strict and smooth rewards, got {len(self.strict)} and {len(self.smooth)}")
        if self.format_ok and len(self.format_ok) != len(self.strict):
            raise ValueError(f"group {self.item_id}: {len(self.format_ok)} format flags for {len(self.strict)} answers")

    @property
    def k(self) -> int:
        return len(self.strict)

    @property
    def correct(self) -> int:
        """Answers with strict reward 1."""
        return int(sum(1 for s in self.strict if s >= 0.5))

    @property
    def smooth_std(self) -> float:
        return float(np.std(np.asarray(self.smooth, dtype=float)))

    @property
    def zero_variance_strict(self) -> bool:
        return self.correct in (0, self.k)

    @property
    def zero_variance_smooth(self) -> bool:
        return float(np.ptp(np.asarray(self.smooth, dtype=float))) <= STD_EPS


@dataclass(frozen=True)
class GroupStats:
    """What one (task, variant) population of groups says about GRPO signal (see module doc)."""

    task: str
    variant: str
    questions: int
    k: int
    histogram: tuple[int, ...]  # questions with 0..k strict-correct answers
    zero_variance_strict: float
    zero_variance_smooth: float
    all_wrong: float  # share with 0 correct
    all_right: float  # share with k correct
    mean_smooth: float
    mean_strict: float
    format_failure_rate: float
    smooth_std_mean: float
    smooth_std_quantiles: dict = field(default_factory=dict)  # "p10" .. "p90"
    smooth_std_histogram: tuple[int, ...] = ()  # STD_BINS counts over [0, STD_MAX]
    smooth_std_values: tuple[float, ...] = field(default=(), repr=False)  # per question, for plots

    @property
    def signal_share(self) -> float:
        """Share of questions whose smooth rewards vary (groups GRPO learns from)."""
        return 1.0 - self.zero_variance_smooth

    def to_dict(self) -> dict:
        """The ``diagnose.json`` row (without the per-question values, which questions.jsonl holds)."""
        out = asdict(self)
        out["histogram"] = list(self.histogram)
        out["smooth_std_histogram"] = list(self.smooth_std_histogram)
        out["signal_share"] = self.signal_share
        del out["smooth_std_values"]
        return out


IDENTICAL_WARN_SHARE = 0.5  # warn when more than this share of groups has k identical texts at temperature > 0


def identical_texts_warning(groups: list[Group], temperature: float) -> str | None:
    """A warning when most groups got k identical texts although the run sampled (None otherwise):
    the decoding was effectively greedy (e.g. a generation_config with top_k 1 or do_sample false
    on the server side), so the zero-variance shares say nothing about the model."""
    if temperature <= 0 or not groups:
        return None
    share = sum(g.identical_texts for g in groups) / len(groups)
    if share <= IDENTICAL_WARN_SHARE:
        return None
    return (f"{share:.0%} of the questions got {groups[0].k} identical answers at temperature {temperature:g}: the backend is not sampling "
            "(check the server's or checkpoint's generation settings: top_k 1, do_sample false); these statistics do not measure the model")


def std_bin_edges() -> list[float]:
    return [round(float(x), 6) for x in np.linspace(0.0, STD_MAX, STD_BINS + 1)]


def group_stats(groups: list[Group], task: str, variant: str) -> GroupStats:
    """Statistics of ``groups`` (all with the same k) labelled ``task``/``variant``."""
    if not groups:
        raise ValueError(f"no groups for {task}/{variant}")
    ks = {g.k for g in groups}
    if len(ks) != 1:
        raise ValueError(f"{task}/{variant}: groups have different sample counts {sorted(ks)}")
    k = ks.pop()
    correct = np.array([g.correct for g in groups])
    stds = np.array([g.smooth_std for g in groups])
    smooth = np.concatenate([np.asarray(g.smooth, dtype=float) for g in groups])
    strict = np.concatenate([np.asarray(g.strict, dtype=float) for g in groups])
    flags = [f for g in groups for f in (g.format_ok or (True,) * g.k)]
    hist, _ = np.histogram(np.clip(stds, 0.0, STD_MAX), bins=std_bin_edges())
    n = len(groups)
    return GroupStats(
        task=task, variant=variant, questions=n, k=k,
        histogram=tuple(int(c) for c in np.bincount(correct, minlength=k + 1)),
        zero_variance_strict=sum(g.zero_variance_strict for g in groups) / n,
        zero_variance_smooth=sum(g.zero_variance_smooth for g in groups) / n,
        all_wrong=float(np.mean(correct == 0)), all_right=float(np.mean(correct == k)),
        mean_smooth=float(smooth.mean()), mean_strict=float(strict.mean()),
        format_failure_rate=1.0 - sum(flags) / len(flags),
        smooth_std_mean=float(stds.mean()),
        smooth_std_quantiles={f"p{round(q * 100)}": float(np.quantile(stds, q)) for q in QUANTILES},
        smooth_std_histogram=tuple(int(c) for c in hist),
        smooth_std_values=tuple(float(s) for s in stds),
    )


def summarize(groups: list[Group]) -> list[GroupStats]:
    """Stats per (task, variant), then per task (variant ``(all)``), then overall; sorted by name.

    A task with a single variant gets no separate ``(all)`` row (it would repeat the variant's).
    """
    by_pair: dict[tuple[str, str], list[Group]] = {}
    for g in groups:
        by_pair.setdefault((g.task, g.variant), []).append(g)
    out: list[GroupStats] = []
    for task in sorted({t for t, _ in by_pair}):
        variants = sorted(v for t, v in by_pair if t == task)
        out.extend(group_stats(by_pair[(task, v)], task, v) for v in variants)
        if len(variants) > 1:
            out.append(group_stats([g for v in variants for g in by_pair[(task, v)]], task, ALL))
    if groups and len({g.k for g in groups}) == 1:
        out.append(group_stats(list(groups), ALL, ALL))
    return out


def task_rows(stats: list[GroupStats]) -> list[GroupStats]:
    """One row per task: its ``(all)`` row, or its only variant's row (what the plot shows)."""
    tasks = sorted({s.task for s in stats if s.task != ALL})
    rows = []
    for task in tasks:
        mine = [s for s in stats if s.task == task]
        rows.append(next((s for s in mine if s.variant == ALL), mine[0]))
    return rows


def format_table(stats: list[GroupStats]) -> str:
    """A fixed-width summary: one line per row of :func:`summarize`."""
    head = f"{'task':<11}{'variant':<16}{'questions':>9}{'zero-var strict':>17}{'zero-var smooth':>17}{'smooth':>8}{'strict':>8}{'std p50':>9}  strict correct 0..k"
    lines = [head]
    for s in stats:
        lines.append(f"{s.task:<11}{s.variant:<16}{s.questions:>9}{s.zero_variance_strict:>17.1%}{s.zero_variance_smooth:>17.1%}"
                     f"{s.mean_smooth:>8.3f}{s.mean_strict:>8.3f}{s.smooth_std_quantiles.get('p50', 0.0):>9.3f}  {' '.join(map(str, s.histogram))}")
    return "\n".join(lines)
