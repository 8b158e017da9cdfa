"""A VIUBench folder as an evaluation target: the VIUBench items, scorer and paper-layout table.

Items, ids, prompts and the per-item metric come from :mod:`videossr.viubench` (``load_items``,
``item_result``: grounding IoU, counting exact match per shape, jigsaw exact order), so a run
here scores exactly as ``videossr viubench score`` does on the same outputs. With n outputs per
item, an item's score is the mean over its outputs. Predictions lines carry
``viubench_version`` and the folder's ``bench`` fingerprint, so ``videossr viubench score``
accepts them as they are.
"""

from __future__ import annotations

from pathlib import Path

from videossr.backends.base import Request, Video
from videossr.evaluate.target import EvalItem, ItemScore, Target
from videossr.prompt_parts import interleave


def _request(item) -> Request:
    videos = [Video(frames=frames, sample_fps=item.sample_fps, max_pixels=item.max_pixels, min_pixels=item.min_pixels) for frames in item.clips]
    return Request(system=item.system_prompt, parts=interleave(item.user, videos))


def _score(item: EvalItem, text: str) -> ItemScore:
    from videossr.viubench.scorer import METRIC, item_result

    result = item_result(item.payload, text)
    return ItemScore.from_reward(result, text, result.detail(METRIC))


def _report(target: Target, results: dict, *, label: str = "model") -> dict:
    from videossr.viubench import Report
    from videossr.viubench.scorer import subset_scores
    from videossr.viubench.table import TableRow, format_counts, format_table

    def outcome(item: EvalItem) -> tuple[str, float | None, float]:
        scores = results.get(item.id)
        if not scores:
            return item.groups["subset"], None, 0.0
        return item.groups["subset"], sum(s.score for s in scores) / len(scores), sum(0.0 if s.format_ok else 1.0 for s in scores) / len(scores)

    outcomes = list(map(outcome, target.items))
    report = Report(label=label, subsets=subset_scores(outcomes), bench={k: target.info.get(k) for k in ("fingerprint", "seed")})
    out = report.to_dict()
    out["kind"] = "viubench"
    out.update(_intervals(outcomes))
    low, high = out["overall_ci95"]
    out["table"] = (format_table([TableRow.from_report(report)]) + "\n\n" + format_counts(report)
                    + f"\n\nOverall 95% CI: {low:.1f}-{high:.1f} ({out['ci']['method']})")
    return out


def _intervals(outcomes: list[tuple[str, float | None, float]]) -> dict:
    """95 % intervals (percent): Overall by a bootstrap stratified by subset, each subset by Wilson or bootstrap."""
    from videossr.evaluate.report import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CI_LEVEL, CI_METHODS, confidence_interval, stratified_bootstrap_interval

    strata: dict[str, list[float]] = {}
    for subset, score, _ in outcomes:
        strata.setdefault(subset, []).append(0.0 if score is None else score)
    percent = lambda pair: [round(100 * pair[0], 4), round(100 * pair[1], 4)]  # noqa: E731
    subsets = {name: percent(confidence_interval(values)[0]) for name, values in strata.items()}
    method = f"Overall: percentile bootstrap over items within each subset ({BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}); subsets: {'; '.join(CI_METHODS.values())}"
    return {"overall_ci95": percent(stratified_bootstrap_interval(strata)), "subset_ci95": subsets, "ci": {"level": CI_LEVEL, "method": method}}


def load_viubench(path: Path, *, limit: int | None = None) -> Target:
    from videossr.viubench import BENCH_VERSION
    from videossr.viubench.items import load_bench

    meta, items = load_bench(path)
    items = items[:limit]
    eval_items = tuple(EvalItem(id=item.id, request=_request(item), ground_truth=item.answer,
                                groups={"subset": item.subset, "task": item.task, "variant": item.variant}, payload=item) for item in items)
    info = {"kind": "viubench", "path": str(path.resolve()), "viubench_version": BENCH_VERSION, "fingerprint": meta.get("fingerprint"),
            "seed": meta.get("seed"),
            "row_fields": {"viubench_version": BENCH_VERSION, **({"bench": meta["fingerprint"]} if meta.get("fingerprint") else {})}}
    return Target(kind="viubench", path=str(path.resolve()), items=eval_items, scorer=_score, reporter=_report, info=info, table=lambda r: r["table"])
