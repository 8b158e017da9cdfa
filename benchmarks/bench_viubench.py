"""Full-size VIUBench build (300 items per subset = 2,700) on the benchmark corpus, phase by phase.

    python benchmarks/make_corpus.py --out bench-corpus                 # once
    python benchmarks/bench_viubench.py --corpus bench-corpus           # prints the table

Phases, run one after the other in one process and timed side by side with a decode-only pass
over the same corpus (the floor: every frame of every video decoded once, same workers):

1. ``build``   ``build_bench(..., export=False)`` into a fresh folder: sampling + the 2,700
               samples (new frames JPEG-encoded) + items.jsonl / bench.json;
2. ``resume``  the same call again (everything finished: what a rerun costs);
3. ``export``  ``build_bench(..., export=True)`` on that folder: the build resumes and the
               evaluation export writes one mp4 per item (one per clip for jigsaw);
               ``--no-export`` skips it;
4. ``score``   the random baseline written and scored (the paper-layout report).

Results (seconds, ratio to the decode-only pass, items/s, disk) go to OUT/results.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(corpus: Path, out: Path, per_subset: int, workers: int, seed: int, export: bool = True) -> dict:
    from bench_build import run_phase

    from videossr.viubench import score_predictions
    from videossr.viubench.baselines import write_baseline
    from videossr.viubench.bench import build_bench

    bench = out / "viubench"
    if bench.exists():
        shutil.rmtree(bench)
    floor = run_phase("decode", corpus, out / "decode", workers, "viubench")["seconds"]
    rows = {"decode-only": {"seconds": floor}}
    kwargs = dict(per_subset=per_subset, seed=seed, workers=workers, progress=False)
    seconds, report = _timed(lambda: build_bench(corpus, bench, export=False, **kwargs))
    rows["build"] = {"seconds": seconds, "items": report.items, "videos_used": report.videos_used,
                     "subsets_reusing_videos": len(report.reuse), "disk_mb": _disk_mb(bench)}
    seconds, _ = _timed(lambda: build_bench(corpus, bench, export=False, **kwargs))
    rows["resume"] = {"seconds": seconds}
    if export:
        seconds, _ = _timed(lambda: build_bench(corpus, bench, export=True, **kwargs))
        mp4s = list((bench / "eval" / "videos").rglob("*.mp4"))
        rows["export"] = {"seconds": seconds, "mp4_files": len(mp4s), "disk_mb": _disk_mb(bench / "eval")}
    preds = out / "random.jsonl"
    seconds, scored = _timed(lambda: score_predictions(write_baseline("random", bench, preds), bench))
    rows["score"] = {"seconds": seconds, "overall_random_pct": round(100 * scored.overall, 2)}
    for row in rows.values():
        row["x_decode_only"] = row["seconds"] / floor
    return {"corpus": str(corpus), "per_subset": per_subset, "workers": workers, "seed": seed, "phases": rows}


def print_table(result: dict) -> None:
    items = result["phases"]["build"]["items"]
    print(f"VIUBench build, {result['per_subset']} per subset ({items} items), {result['workers']} worker(s), corpus {result['corpus']}")
    print(f"{'phase':<12} {'seconds':>9} {'x decode-only':>14} {'items/s':>9}  notes")
    for name, row in result["phases"].items():
        rate = f"{items / row['seconds']:.1f}" if name in ("build", "export", "score") else "-"
        notes = {k: v for k, v in row.items() if k not in ("seconds", "x_decode_only")}
        print(f"{name:<12} {row['seconds']:>9.2f} {row['x_decode_only']:>14.2f} {rate:>9}  {json.dumps(notes) if notes else ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("bench-corpus"))
    parser.add_argument("--out", type=Path, default=Path("bench-out-viubench"))
    parser.add_argument("--per-subset", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-export", action="store_true", help="skip phase 3 (the mp4 export)")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"corpus folder {args.corpus} not found; build it with benchmarks/make_corpus.py")
    result = run(args.corpus, args.out, args.per_subset, args.workers, args.seed, export=not args.no_export)
    print_table(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    print(f"results: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
