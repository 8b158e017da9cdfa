"""Evaluation verb: ``videossr eval TARGET --backend NAME --out OUT``."""

from __future__ import annotations

import sys

from videossr.cli.common import add_backend_args, backend_options, positive_int


def positive_float(text: str) -> float:
    import argparse
    import math

    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def text_or_file(value: str | None) -> str | None:
    """The text of the file ``value`` names, or ``value`` itself."""
    from pathlib import Path

    if value is not None and len(value) < 4096 and "\n" not in value and "{" not in value and Path(value).is_file():
        return Path(value).read_text(encoding="utf-8")
    return value


def cmd_eval(args) -> int:
    from videossr.evaluate.session import evaluate

    outcome = evaluate(args.target, backend=args.backend, out=args.out, backend_options=backend_options(args), task=args.task, video_dir=args.video_dir,
                       max_frames=args.max_frames, limit=args.limit, dry_run=args.dry_run, n=args.n, temperature=args.temperature,
                       max_tokens=args.max_tokens, seed=args.seed, cache=False if args.no_cache else (args.cache or True),
                       overwrite=args.overwrite, progress=not args.no_progress, fps=args.fps, prompt_template=text_or_file(args.prompt_template),
                       label=args.label)
    print(outcome.text)
    if outcome.report is not None and outcome.answered == 0:
        print(f"error: every item failed (see {outcome.out}/predictions.jsonl)", file=sys.stderr)
        return 1
    return 0


def register(verbs) -> None:
    from videossr.backends.base import DEFAULT_MAX_TOKENS
    from videossr.evaluate.target import DEFAULT_MAX_FRAMES

    p = verbs.add_parser("eval", help="evaluate a model on VIUBench, a build dataset or an outside VQA/VTG JSON",
                         description="Answer every item of TARGET with a backend; predictions are written as they come and a rerun resumes.")
    p.add_argument("target", help="a VIUBench folder, a videossr build dataset (folder or parquet) or a {video, question, answer} JSON")
    p.add_argument("--out", required=True, help="output folder: run.json, predictions.jsonl, report.json, cache.sqlite")
    g = p.add_argument_group("target")
    g.add_argument("--task", choices=("vqa", "vtg"), help="outside JSON: multiple-choice VQA or temporal grounding (default: from the answers)")
    g.add_argument("--video-dir", help="outside JSON: the folder its videos are in")
    g.add_argument("--max-frames", type=positive_int, default=DEFAULT_MAX_FRAMES, help="outside JSON: at most this many frames per video (paper: 32, 48, 64; default %(default)s)")
    g.add_argument("--fps", type=positive_float, default=None, help="outside JSON: frames per second sampled from each video, before --max-frames (default 2, the paper's)")
    g.add_argument("--prompt-template", default=None, metavar="TEXT|FILE",
                   help="outside JSON: the user text after the video, with {question} where the question goes (default for VQA: the question, then a line asking for the option letter only)")
    g.add_argument("--label", default=None, help="the model's name in the report (default: the model, the end of a long path)")
    g.add_argument("--limit", type=positive_int, help="only the first N items")
    g = p.add_argument_group("sampling")
    g.add_argument("-n", type=positive_int, default=1, help="outputs per item (default %(default)s)")
    g.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default %(default)s)")
    g.add_argument("--max-tokens", type=positive_int, default=DEFAULT_MAX_TOKENS, help="max new tokens per output (default %(default)s)")
    g.add_argument("--seed", type=int, default=0, help="sampling seed (default %(default)s)")
    add_backend_args(p)
    g = p.add_argument_group("run")
    g.add_argument("--cache", help="response cache file to share between runs (default OUT/cache.sqlite)")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    g.add_argument("--dry-run", action="store_true", help="print the first request as the backend would send it, and stop")
    g.add_argument("--overwrite", action="store_true", help="start again: drop OUT's predictions and report")
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_eval)
