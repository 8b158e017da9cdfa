"""Reports: per-group means over items (each item = the mean of its n outputs) and a plain table.

A group report (the layout of build-dataset and outside-benchmark reports)::

    {"kind": "vqa", "metric": "accuracy", "groups": [
        {"group": {"task": "vqa"}, "items": 10, "answered": 9, "missing": 1, "score": 0.5,
         "strict": 0.5, "format_failure_rate": 0.2, "unparsed": 1, "r@0.5": ...}, ...],
     "overall": {...the same fields for all items...}}

A missing item (failed or not yet answered) counts as score 0 and as a format failure.
"""

from __future__ import annotations

from collections import defaultdict

ALL = "(all)"


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


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


def _summary(group: dict, item_values: list[dict | None], metric_names: list[str]) -> dict:
    answered = [v for v in item_values if v is not None]
    missing = len(item_values) - len(answered)
    total = len(item_values)

    def over_all(name: str, missing_value: float) -> float:
        return round((sum(v[name] for v in answered) + missing * missing_value) / total, 6) if total else 0.0

    row = {"group": group, "items": total, "answered": len(answered), "missing": missing,
           "score": over_all("score", 0.0), "strict": over_all("strict", 0.0),
           "format_failure_rate": over_all("format_fail", 1.0), "unparsed": round(sum(v["unparsed"] for v in answered), 6)}
    for name in metric_names:
        row[name] = over_all(name, 0.0)
    return row


def group_report(target, results: dict, *, group_keys: tuple[str, ...], metric: str, metric_names: tuple[str, ...] = (), label: str = "model") -> dict:
    """Means per combination of ``group_keys`` labels (sorted), then per first key, then overall."""
    values = {item.id: (_item_values(results[item.id]) if results.get(item.id) else None) for item in target.items}
    buckets: dict[tuple, list] = defaultdict(list)
    for item in target.items:
        buckets[tuple(str(item.groups.get(k, "")) for k in group_keys)].append(values[item.id])
    groups = []
    for labels in sorted(buckets):
        groups.append(_summary(dict(zip(group_keys, labels)), buckets[labels], list(metric_names)))
    if len(group_keys) > 1:
        firsts = sorted({labels[0] for labels in buckets})
        for first in firsts:
            merged = [v for labels, vs in buckets.items() if labels[0] == first for v in vs]
            groups.append(_summary({group_keys[0]: first, **{k: ALL for k in group_keys[1:]}}, merged, list(metric_names)))
    overall = _summary({k: ALL for k in group_keys}, list(values.values()), list(metric_names))
    return {"kind": target.kind, "label": label, "metric": metric, "target": target.info, "groups": groups, "overall": overall}


def format_generic(report: dict) -> str:
    """A fixed-width table of a group report (one line per group, overall last)."""
    rows = list(report.get("groups", [])) + ([report["overall"]] if "overall" in report else [])
    if not rows:
        return "(no items)"
    keys = list(rows[0]["group"])
    extra = [k for k in rows[0] if k not in ("group", "items", "answered", "missing", "score", "strict", "format_failure_rate", "unparsed")]
    header = keys + ["items", "missing", report.get("metric", "score"), "strict", *extra, "unparsed", "format_fail"]
    lines = [header]
    for row in rows:
        lines.append([str(row["group"][k]) for k in keys] + [str(row["items"]), str(row["missing"]), f"{100 * row['score']:.1f}",
                     f"{100 * row['strict']:.1f}", *[f"{100 * row[k]:.1f}" for k in extra], f"{row['unparsed']:g}", f"{100 * row['format_failure_rate']:.1f}%"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) if i < len(keys) else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))) for line in lines)
