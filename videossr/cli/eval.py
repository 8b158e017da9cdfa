"""Evaluation verb: ``videossr eval TARGET --backend NAME --out OUT``."""

from __future__ import annotations

import argparse
import sys

from videossr.cli.common import positive_int as _positive_int


def _backend_options(args) -> dict:
    """The options of the chosen backend (only those the user set or that backend takes)."""
    if args.backend == "transformers":
        if not args.model:
            raise ValueError("--backend transformers needs --model (a checkpoint folder or hub name)")
        return {"model": args.model, "batch_size": args.batch_size, "dtype": args.dtype, "device": args.device,
                "max_pixels": args.max_pixels, "min_pixels": args.min_pixels}
    if args.backend == "openai":
        return {"model": args.model, "base_url": args.base_url or ["http://localhost:8000/v1"], "video_mode": args.video_mode,
                "concurrency": args.concurrency, "timeout_s": args.timeout, "max_retries": args.retries, "max_pixels": args.max_pixels}
    if args.backend == "replay":
        if not args.replay_file:
            raise ValueError("--backend replay needs --replay-file PREDICTIONS.jsonl")
        return {"path": args.replay_file}
    return {"model": args.model} if args.model else {}


def cmd_eval(args) -> int:
    from videossr.evaluate.session import evaluate

    outcome = evaluate(args.target, backend=args.backend, out=args.out, backend_options=_backend_options(args), task=args.task, video_dir=args.video_dir,
                       max_frames=args.max_frames, limit=args.limit, dry_run=args.dry_run, n=args.n, temperature=args.temperature,
                       max_tokens=args.max_tokens, seed=args.seed, cache=False if args.no_cache else (args.cache or True),
                       overwrite=args.overwrite, progress=not args.no_progress)
    print(outcome.text)
    if outcome.report is not None and outcome.answered == 0:
        print(f"error: every item failed (see {outcome.out}/predictions.jsonl)", file=sys.stderr)
        return 1
    return 0


def register(verbs) -> None:
    from videossr.backends.base import DEFAULT_MAX_TOKENS, backend_names
    from videossr.evaluate.target import DEFAULT_MAX_FRAMES

    p = verbs.add_parser("eval", help="evaluate a model on VIUBench, a build dataset or an outside VQA/VTG JSON",
                         description="Answer every item of TARGET with a backend; predictions are written as they come and a rerun resumes.")
    p.add_argument("target", help="a VIUBench folder, a videossr build dataset (folder or parquet) or a {video, question, answer} JSON")
    p.add_argument("--backend", required=True, help=f"inference backend ({', '.join(backend_names())})")
    p.add_argument("--out", required=True, help="output folder: run.json, predictions.jsonl, report.json, cache.sqlite")
    g = p.add_argument_group("target")
    g.add_argument("--task", choices=("vqa", "vtg"), help="outside JSON: multiple-choice VQA or temporal grounding (default: from the answers)")
    g.add_argument("--video-dir", help="outside JSON: the folder its videos are in")
    g.add_argument("--max-frames", type=_positive_int, default=DEFAULT_MAX_FRAMES, help="outside JSON: fps 2 capped at this many frames (paper: 32, 48, 64; default %(default)s)")
    g.add_argument("--limit", type=_positive_int, help="only the first N items")
    g = p.add_argument_group("sampling")
    g.add_argument("-n", type=_positive_int, default=1, help="outputs per item (default %(default)s)")
    g.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default %(default)s)")
    g.add_argument("--max-tokens", type=_positive_int, default=DEFAULT_MAX_TOKENS, help="max new tokens per output (default %(default)s)")
    g.add_argument("--seed", type=int, default=0, help="sampling seed (default %(default)s)")
    g = p.add_argument_group("backends")
    g.add_argument("--model", help="transformers: checkpoint folder or hub name; openai: model name (default: the server's first)")
    g.add_argument("--batch-size", type=_positive_int, default=8, help="transformers: requests per generate call (default %(default)s)")
    g.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"), help="transformers: weights dtype (default %(default)s)")
    g.add_argument("--device", default="auto", help="transformers: cuda, cuda:1, cpu, ... (default: cuda when available)")
    g.add_argument("--max-pixels", type=_positive_int, help="per-frame pixel budget (default: each video's own)")
    g.add_argument("--min-pixels", type=_positive_int, help="transformers: per-frame minimum pixels (default: each video's own)")
    g.add_argument("--base-url", action="append", help="openai: server URL (default http://localhost:8000/v1, vLLM's); repeat to spread requests over servers")
    g.add_argument("--video-mode", choices=("video", "frames"), default="video", help="openai: vLLM video_url of JPEG frames + fps, or images each after a <t seconds> text (default %(default)s)")
    g.add_argument("--concurrency", type=_positive_int, default=8, help="openai: requests in flight (default %(default)s)")
    g.add_argument("--timeout", type=float, default=300.0, help="openai: seconds per request (default %(default)s)")
    g.add_argument("--retries", type=int, default=5, help="openai: retries on 429/5xx/timeouts, exponential backoff (default %(default)s)")
    g.add_argument("--replay-file", help="replay: a predictions JSONL to answer from")
    g = p.add_argument_group("run")
    g.add_argument("--cache", help="response cache file to share between runs (default OUT/cache.sqlite)")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    g.add_argument("--dry-run", action="store_true", help="print the first request as the backend would send it, and stop")
    g.add_argument("--overwrite", action="store_true", help="start again: drop OUT's predictions and report")
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_eval)
