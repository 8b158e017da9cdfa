"""Bootstrap confidence intervals of a VIUBench report (percent), seeded and reproducible.

Each resample draws, within every subset independently, as many items as the subset has, with
replacement (a stratified bootstrap: subset sizes stay fixed, as in the benchmark); a subset's
value is the mean of its drawn items, and tasks, abilities and Overall are computed from the
same resampled subsets exactly as the report computes them (unweighted means over subsets).
The interval is the percentile interval of ``resamples`` resamples. The draws come from
``numpy.random.default_rng(seed)`` in the paper's subset order, so the same scores and seed
give the same intervals.

With 300 items a grounding subset's standard error is about 1.5-2 points, so two models
closer than that on one subset are not told apart by this benchmark.
"""

from __future__ import annotations

from videossr.viubench.subsets import ABILITIES, SUBSETS, TASKS, subsets_of_ability, subsets_of_task

RESAMPLES = 1000
LEVEL = 0.95
_CHUNK = 100  # resamples drawn at once (bounds memory for large subsets)


def _subset_means(scores: list[float], rng, resamples: int):
    import numpy as np

    values = np.asarray(scores, dtype=np.float64)
    chunks = []
    for start in range(0, resamples, _CHUNK):
        rows = min(_CHUNK, resamples - start)
        chunks.append(values[rng.integers(0, values.size, size=(rows, values.size))].mean(axis=1))
    return np.concatenate(chunks)


def bootstrap(per_subset: dict[str, list[float]], *, seed: int = 0, resamples: int = RESAMPLES, level: float = LEVEL) -> dict:
    """Intervals ``[low, high]`` in percent per subset, task, ability and Overall (None: no items).

    ``per_subset``: {subset name: item scores in [0, 1]} (a missing prediction as 0).
    """
    import numpy as np

    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
    rng = np.random.default_rng(seed)
    means = {name: _subset_means(per_subset[name], rng, resamples) for name in SUBSETS if per_subset.get(name)}
    quantiles = [(1 - level) / 2, (1 + level) / 2]

    def interval(names) -> list[float] | None:
        present = [means[name] for name in names if name in means]
        if not present:
            return None
        low, high = np.quantile(np.mean(present, axis=0), quantiles)
        return [100.0 * float(low), 100.0 * float(high)]

    return {
        "level": level, "resamples": resamples, "seed": seed, "method": "percentile bootstrap over items, resampled within each subset",
        "subsets": {name: interval([name]) for name in SUBSETS},
        "tasks": {task: interval(subsets_of_task(task)) for task in TASKS},
        "abilities": {ability: interval(subsets_of_ability(ability)) for ability in ABILITIES},
        "overall": interval(SUBSETS),
    }
