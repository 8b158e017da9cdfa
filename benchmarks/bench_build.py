"""Sampling and build throughput against a decode-only floor, measured side by side in one run.

    python benchmarks/make_corpus.py --out bench-corpus          # once
    python benchmarks/bench_build.py --corpus bench-corpus       # prints the table

For each worker count (default 1 and 2) it runs, each in a fresh subprocess so that peak RSS is
per phase: (1) a decode-only pass that decodes every frame of every video with the same
parallelism and decoder threads as videossr, (2) ``sample`` (48 frames per video), (3) ``build``
with the recipe (default videossr30k). It reports wall time, the ratio to the decode-only pass,
videos/s and samples/s, frames decoded per frame kept, peak RSS of the worker jobs (each job reports its own process's
peak) and of the driver process, and bytes on disk per sample. Finally it builds the smallest and
the largest file of the corpus alone to show worker RSS does not grow with video length.
Everything goes to OUT/results.json.

``--baseline REF`` also runs the build of an earlier commit (checked out into a temporary git
worktree) in the same run, so new disk per sample and build time compare side by side:

    python benchmarks/bench_build.py --corpus bench-corpus --baseline f5dbcee
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _decode_all(job: tuple[str, int]) -> tuple[int, float]:
    import av

    from videossr.parallel import peak_rss_mb

    path, threads = job
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if threads != 1 else "SLICE"
        stream.codec_context.thread_count = threads
        frames = sum(1 for _ in container.decode(stream))
    return frames, peak_rss_mb()


def run_phase(phase: str, corpus: Path, out: Path, workers: int, recipe: str) -> dict:
    """Run one phase in this process; returns its stats (called in a subprocess)."""
    from videossr.parallel import decoder_threads, run_jobs

    start = time.perf_counter()
    if phase == "decode":
        from videossr.discover import find_videos

        jobs = [(str(v.path), decoder_threads(workers)) for v in find_videos(corpus)]
        results = list(run_jobs(_decode_all, jobs, workers=workers, desc="decode-only", progress=False))
        return {"seconds": time.perf_counter() - start, "videos": len(jobs), "frames_decoded": sum(n for n, _ in results), "worker_rss_mb": max(r for _, r in results)}
    if phase == "sample":
        from videossr.framestore import sample_folder

        report = sample_folder(corpus, out, workers=workers, progress=False)
        seconds = time.perf_counter() - start
        decoded = sum(r["frames_decoded"] for r in report.sampled)
        kept = sum(r["num_frames"] for r in report.sampled)
        return {"seconds": seconds, "videos": len(report.sampled), "frames_decoded": decoded, "frames_kept": kept, "worker_rss_mb": report.worker_peak_rss_mb}
    from videossr.build import build
    from videossr.recipe import load_recipe

    report = build(corpus, out, load_recipe(recipe), workers=workers, progress=False)
    seconds = time.perf_counter() - start
    manifest = [json.loads(line) for line in (out / "store" / "manifest.jsonl").read_text().splitlines()]
    disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    new = sum(p.stat().st_size for p in (out / "samples").rglob("*") if p.is_file())
    return {
        "seconds": seconds, "videos": len(manifest), "samples": report.rows,
        "frames_decoded": sum(r["frames_decoded"] for r in manifest), "frames_kept": sum(r["num_frames"] for r in manifest),
        "bytes_total": disk, "bytes_new_frames": new, "worker_rss_mb": report.worker_peak_rss_mb,
    }


def measure(phase: str, corpus: Path, out: Path, workers: int, recipe: str, code: Path = ROOT) -> dict:
    """Run a phase in a fresh subprocess (importing videossr from ``code``); add its peak RSS from wait4."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, __file__, "--phase", phase, "--corpus", str(corpus.resolve()), "--out", str(out.resolve()), "--workers", str(workers), "--recipe", recipe]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=code, env={**os.environ, "PYTHONPATH": str(code)})
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"phase {phase} failed: {' '.join(cmd)}")
    stats = json.loads(stdout.decode().strip().splitlines()[-1])
    stats["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("bench-corpus"))
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default %(default)s)")
    parser.add_argument("--recipe", default="videossr30k")
    parser.add_argument("--baseline", default=None, metavar="REF", help="also run the build of this git commit, side by side")
    parser.add_argument("--phase", choices=("decode", "sample", "build"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.corpus, args.out, int(args.workers), args.recipe)))
        return 0
    if not args.corpus.is_dir():
        parser.error(f"corpus folder {args.corpus} not found; build it with benchmarks/make_corpus.py")
    results = []
    baseline = _worktree(args.baseline, args.out) if args.baseline else None
    for workers in (int(w) for w in args.workers.split(",")):
        row = {"workers": workers}
        for phase in ("decode", "sample", "build"):
            row[phase] = measure(phase, args.corpus, args.out / f"{phase}-w{workers}", workers, args.recipe)
        if baseline:
            row["baseline_build"] = measure("build", args.corpus, args.out / f"baseline-build-w{workers}", workers, args.recipe, code=baseline)
            row["baseline_ref"] = args.baseline
        results.append(row)
        print_row(row)
    by_length = rss_by_length(args.corpus, args.out, args.recipe)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"corpus": str(args.corpus), "recipe": args.recipe, "results": results, "rss_by_length": by_length}, indent=2))
    print(f"results: {args.out / 'results.json'}")
    return 0


def _worktree(ref: str, out: Path) -> Path:
    """A detached git worktree of ``ref`` under ``out`` (the baseline's code)."""
    path = (out / f"baseline-{ref}").resolve()
    if not path.is_dir():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=True)  # forget worktrees whose folder was deleted
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref], check=True, capture_output=True)
    return path


def rss_by_length(corpus: Path, out: Path, recipe: str) -> dict:
    """Build the smallest and the largest corpus file alone (1 worker): peak worker RSS of each."""
    from videossr.discover import find_videos

    files = sorted((v.path for v in find_videos(corpus)), key=lambda p: p.stat().st_size)
    found = {}
    for label, path in (("smallest", files[0]), ("largest", files[-1])):
        single = out / f"single-{label}"
        single.mkdir(parents=True, exist_ok=True)
        link = single / path.name
        if not link.exists():
            link.symlink_to(path.resolve())
        stats = measure("build", single, out / f"build-{label}", 1, recipe)
        found[label] = {"file": path.name, "bytes": path.stat().st_size, "worker_rss_mb": stats["worker_rss_mb"]}
    print(f"\npeak worker RSS, build alone: {found['smallest']['file']} {found['smallest']['worker_rss_mb']:.1f} MB; "
          f"{found['largest']['file']} {found['largest']['worker_rss_mb']:.1f} MB")
    return found


def print_row(row: dict) -> None:
    d, s, b = row["decode"], row["sample"], row["build"]
    print(f"\nworkers={row['workers']}  ({d['videos']} videos, {d['frames_decoded']} frames in the decode-only pass)")
    print(f"  {'phase':<12}{'seconds':>9}{'x decode':>10}{'videos/s':>10}{'samples/s':>11}{'decoded/kept':>14}{'worker RSS MB':>15}{'driver RSS MB':>15}")
    print(f"  {'decode-only':<12}{d['seconds']:>9.2f}{1.0:>10.2f}{d['videos'] / d['seconds']:>10.2f}{'':>11}{'':>14}{d['worker_rss_mb']:>15.1f}{d['peak_rss_mb']:>15.1f}")
    print(f"  {'sample':<12}{s['seconds']:>9.2f}{s['seconds'] / d['seconds']:>10.2f}{s['videos'] / s['seconds']:>10.2f}{'':>11}{s['frames_decoded'] / s['frames_kept']:>14.2f}{s['worker_rss_mb']:>15.1f}{s['peak_rss_mb']:>15.1f}")
    print(f"  {'build':<12}{b['seconds']:>9.2f}{b['seconds'] / d['seconds']:>10.2f}{b['videos'] / b['seconds']:>10.2f}{b['samples'] / b['seconds']:>11.2f}{b['frames_decoded'] / b['frames_kept']:>14.2f}{b['worker_rss_mb']:>15.1f}{b['peak_rss_mb']:>15.1f}")
    print(f"  bytes on disk per sample: {b['bytes_total'] / b['samples'] / 1024:.1f} KiB total, {b['bytes_new_frames'] / b['samples'] / 1024:.1f} KiB of new frames")
    base = row.get("baseline_build")
    if base:
        print(f"  {'build @' + row['baseline_ref']:<12}{base['seconds']:>9.2f}{base['seconds'] / d['seconds']:>10.2f}{base['videos'] / base['seconds']:>10.2f}{base['samples'] / base['seconds']:>11.2f}"
              f"{base['frames_decoded'] / base['frames_kept']:>14.2f}{base['worker_rss_mb']:>15.1f}{base['peak_rss_mb']:>15.1f}")
        print(f"  baseline bytes per sample: {base['bytes_total'] / base['samples'] / 1024:.1f} KiB total, {base['bytes_new_frames'] / base['samples'] / 1024:.1f} KiB of new frames"
              f"  -> this build: {b['bytes_total'] / b['samples'] / (base['bytes_total'] / base['samples']):.2f}x total, "
              f"{b['bytes_new_frames'] / b['samples'] / (base['bytes_new_frames'] / base['samples']):.2f}x new frames; build time {b['seconds'] / base['seconds']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
