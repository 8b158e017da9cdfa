"""A VIUBench folder as an evaluation target: the VIUBench items, scorer and paper-layout table.

Items, ids, prompts and the per-item metric come from :mod:`videossr.viubench` (``load_items``,
``item_result``: grounding IoU, counting exact match per shape, jigsaw exact order), so a run
here scores exactly as ``videossr viubench score --parser P`` does on the same outputs; answers
are read by ``parser`` (``paper``, the default, or ``robust``; see videossr.viubench.parsers),
recorded in the target info so a rerun with another parser is refused. With n outputs per
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


def _scorer(parser: str):
    def score(item: EvalItem, text: str) -> ItemScore:
        from videossr.viubench.scorer import METRIC, item_result

        result = item_result(item.payload, text, parser=parser)
        if parser == "robust":
            return ItemScore.from_reward(result, text, result.detail(METRIC))
        # the paper parser reads the whole stripped response
        return ItemScore(score=result.detail(METRIC), strict=result.strict, parsed=text.strip() if result.format_ok else None, format_ok=result.format_ok)

    return score


def _report(target: Target, results: dict, *, label: str = "model") -> dict:
    from videossr.viubench import BENCH_VERSION, Report
    from videossr.viubench.scorer import ItemOutcome
    from videossr.viubench.table import TableRow, format_counts, format_table

    def outcome(item: EvalItem) -> ItemOutcome:
        scores = results.get(item.id)
        if not scores:
            return ItemOutcome(item.id, item.groups["subset"], None)
        return ItemOutcome(item.id, item.groups["subset"], sum(s.score for s in scores) / len(scores),
                           sum(0.0 if s.format_ok else 1.0 for s in scores) / len(scores))

    parser = target.info["parser"]
    report = Report.from_outcomes(label, map(outcome, target.items), bench={k: target.info.get(k) for k in ("fingerprint", "seed")}, parser=parser)
    out = report.to_dict()
    out["kind"] = "viubench"
    title = f"VIUBench {BENCH_VERSION} (percent; answers read by the {parser} parser)"
    out["table"] = format_table([TableRow.from_report(report, ci=True), TableRow.chance()], title=title) + "\n\n" + format_counts(report)
    return out


def load_viubench(path: Path, *, limit: int | None = None, parser: str | None = None) -> Target:
    from videossr.viubench import BENCH_VERSION
    from videossr.viubench.items import load_bench
    from videossr.viubench.parsers import DEFAULT_PARSER, check_parser

    parser = check_parser(parser or DEFAULT_PARSER)
    meta, items = load_bench(path)
    items = items[:limit]
    eval_items = tuple(EvalItem(id=item.id, request=_request(item), ground_truth=item.answer,
                                groups={"subset": item.subset, "task": item.task, "variant": item.variant}, payload=item) for item in items)
    info = {"kind": "viubench", "path": str(path.resolve()), "viubench_version": BENCH_VERSION, "fingerprint": meta.get("fingerprint"),
            "seed": meta.get("seed"), "parser": parser,
            "row_fields": {"viubench_version": BENCH_VERSION, **({"bench": meta["fingerprint"]} if meta.get("fingerprint") else {})}}
    return Target(kind="viubench", path=str(path.resolve()), items=eval_items, scorer=_scorer(parser), reporter=_report, info=info, table=lambda r: r["table"])
