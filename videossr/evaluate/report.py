"""Reports: per-group means over items (each item = the mean of its n outputs), 95 % confidence intervals, and a plain table.

A group report (the layout of build-dataset and outside-benchmark reports)::

    {"kind": "vqa", "label": "step400", "metric": "accuracy", "ci": {"level": 0.95, "method": "..."}, "groups": [
        {"group": {"task": "vqa", "duration": "short"}, "items": 10, "answered": 9, "missing": 1, "score": 0.5,
         "score_ci95": [0.237, 0.763], "strict": 0.5, "format_failure_rate": 0.2, "unparsed": 1, "r@0.5": ...}, ...],
     "overall": {...the same fields for all items...}}

A missing item (failed or not yet answered) counts as score 0 and as a format failure.

``group_keys``: with ``marginal=False`` (build datasets) one row per combination of the labels,
then one per first label; with ``marginal=True`` (outside JSONs: ``domain``, ``duration``, ...) one
row per value of each key on its own (the others ``"(all)"``), as Video-MME reports per duration
and per domain. Overall last.

Confidence intervals (``score_ci95``, the main metric, over items): the Wilson score interval when
every item value is 0 or 1 (accuracy with one output per item), else a seeded percentile
bootstrap over items (2000 resamples, seed 0; the same report every run). The report's ``ci``
field names the method used for each row's kind.
"""

from __future__ import annotations

import math
from collections import defaultdict

ALL = "(all)"
CI_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
CI_METHODS = {"wilson": "Wilson score interval (items scored 0/1)",
              "bootstrap": f"percentile bootstrap over items ({BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED})"}
LABEL_CHARS = 36  # the width report tables give a model label


def default_label(identity: dict) -> str:
    """The report label of a backend: its model (the end of a long path, so checkpoints differ), else its name."""
    model = str(identity.get("model") or identity.get("backend") or "model")
    return model if len(model) <= LABEL_CHARS else "…" + model[-(LABEL_CHARS - 1):]


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def wilson_interval(successes: float, total: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``total`` (95 % by default)."""
    if total <= 0:
        return 0.0, 0.0
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_interval(values: list[float], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values`` (seeded: the same every call)."""
    import numpy as np

    if not values:
        return 0.0, 0.0
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    alpha = (1 - CI_LEVEL) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def stratified_bootstrap_interval(strata: dict[str, list[float]], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of per-stratum means (items resampled within each
    stratum, as VIUBench's Overall is the mean of its subsets' means); empty strata are left out."""
    import numpy as np

    filled = [np.asarray(v, dtype=float) for v in strata.values() if v]
    if not filled:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = np.mean([data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1) for data in filled], axis=0)
    alpha = (1 - CI_LEVEL) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def confidence_interval(values: list[float]) -> tuple[tuple[float, float], str]:
    """(95 % interval of the mean of per-item ``values``, method name): Wilson for 0/1 values, else bootstrap."""
    if all(v in (0.0, 1.0) for v in values):
        return wilson_interval(sum(values), len(values)), "wilson"
    return bootstrap_interval(values), "bootstrap"


def _item_values(scores) -> dict:
    """Per-item means over its outputs: score, strict, format_ok, unparsed, extra metrics."""
    values = {
        "score": _mean(s.score for s in scores),
        "strict": _mean(s.strict for s in scores),
        "format_fail": _mean(0.0 if s.format_ok else 1.0 for s in scores),
        "unparsed": _mean(1.0 if s.parsed is None else 0.0 for s in scores),
    }
    for name in sorted({k for s in scores for k, _ in s.metrics}):
        values[name] = _mean(dict(s.metrics).get(name, 0.0) for s in scores)
    return values


def _summary(group: dict, item_values: list[dict | None], metric_names: list[str], methods: set) -> dict:
    answered = [v for v in item_values if v is not None]
    missing = len(item_values) - len(answered)
    total = len(item_values)

    def over_all(name: str, missing_value: float) -> float:
        return round((sum(v[name] for v in answered) + missing * missing_value) / total, 6) if total else 0.0

    scores = [v["score"] if v is not None else 0.0 for v in item_values]
    (low, high), method = confidence_interval(scores)
    methods.add(method)
    row = {"group": group, "items": total, "answered": len(answered), "missing": missing,
           "score": over_all("score", 0.0), "score_ci95": [round(low, 6), round(high, 6)], "strict": over_all("strict", 0.0),
           "format_failure_rate": over_all("format_fail", 1.0), "unparsed": round(sum(v["unparsed"] for v in answered), 6)}
    for name in metric_names:
        row[name] = over_all(name, 0.0)
    return row


def group_report(target, results: dict, *, group_keys: tuple[str, ...], metric: str, metric_names: tuple[str, ...] = (), label: str = "model",
                 marginal: bool = False) -> dict:
    """Means per group of items (see the module docstring for ``marginal``), then overall."""
    values = {item.id: (_item_values(results[item.id]) if results.get(item.id) else None) for item in target.items}
    methods: set = set()
    names = list(metric_names)

    def rows_by(keys: tuple[str, ...]) -> list[dict]:
        buckets: dict[tuple, list] = defaultdict(list)
        for item in target.items:
            buckets[tuple(str(item.groups.get(k, "")) for k in keys)].append(values[item.id])
        return [_summary({k: (dict(zip(keys, labels)).get(k, ALL)) for k in group_keys}, buckets[labels], names, methods) for labels in sorted(buckets)]

    if marginal:
        groups = [row for key in group_keys[1:] for row in rows_by((key,))]
    else:
        groups = rows_by(group_keys) + (rows_by(group_keys[:1]) if len(group_keys) > 1 else [])
    overall = _summary({k: ALL for k in group_keys}, list(values.values()), names, methods)
    ci = {"level": CI_LEVEL, "field": "score_ci95", "methods": {m: CI_METHODS[m] for m in sorted(methods)}}
    return {"kind": target.kind, "label": label, "metric": metric, "ci": ci, "target": target.info, "groups": groups, "overall": overall}


def format_generic(report: dict) -> str:
    """A fixed-width table of a group report (one line per group, overall last)."""
    rows = list(report.get("groups", [])) + ([report["overall"]] if "overall" in report else [])
    if not rows:
        return "(no items)"
    keys = list(rows[0]["group"])
    extra = [k for k in rows[0] if k not in ("group", "items", "answered", "missing", "score", "score_ci95", "strict", "format_failure_rate", "unparsed")]
    header = keys + ["items", "missing", report.get("metric", "score"), "95% CI", "strict", *extra, "unparsed", "format_fail"]
    lines = [header]
    for row in rows:
        low, high = row.get("score_ci95", (row["score"], row["score"]))
        lines.append([str(row["group"][k]) for k in keys] + [str(row["items"]), str(row["missing"]), f"{100 * row['score']:.1f}",
                     f"{100 * low:.1f}-{100 * high:.1f}", f"{100 * row['strict']:.1f}", *[f"{100 * row[k]:.1f}" for k in extra],
                     f"{row['unparsed']:g}", f"{100 * row['format_failure_rate']:.1f}%"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    table = "\n".join("  ".join(cell.ljust(w) if i < len(keys) else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))) for line in lines)
    title = f"{report['label']}: " if report.get("label") else ""
    methods = report.get("ci", {}).get("methods", {})
    return f"{title}{report.get('kind', '')} ({report.get('metric', 'score')}, 95% CI: {'; '.join(methods.values()) or 'none'})\n{table}"
