"""Evaluation verb: ``videossr eval TARGET --backend NAME --out OUT``."""

from __future__ import annotations

import argparse
import sys

from videossr.cli.common import add_backend_args, backend_options, finite_number, positive_float, positive_int


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """A bad option value is one ``error:`` line and exit 2 (not the whole usage block)."""
    def error(message: str):
        parser.exit(2, f"error: {message} (see videossr eval --help)\n")

    parser.error = error


def cmd_eval(args) -> int:
    from videossr.evaluate.session import evaluate, text_or_file

    outcome = evaluate(args.target, backend=args.backend, out=args.out, backend_options=backend_options(args), task=args.task, video_dir=args.video_dir,
                       max_frames=args.max_frames, limit=args.limit, dry_run=args.dry_run, n=args.n, temperature=args.temperature,
                       max_tokens=args.max_tokens, seed=args.seed, top_p=args.top_p, top_k=args.top_k, repetition_penalty=args.repetition_penalty,
                       system_prompt=text_or_file(args.system_prompt, "--system-prompt"), log_prompts=args.log_prompts,
                       cache=False if args.no_cache else (args.cache or True), overwrite=args.overwrite, progress=not args.no_progress,
                       parser=args.parser, fps=args.fps, prompt_template=text_or_file(args.prompt_template, "--prompt-template"), label=args.label)
    print(outcome.text)
    if outcome.report is not None and outcome.answered == 0:
        print(f"error: every item failed, nothing was scored (see {outcome.out}/predictions.jsonl)", file=sys.stderr)
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
    g.add_argument("--parser", choices=("paper", "robust"), help="VIUBench folder: how answers are read, paper = the paper's bare formats "
                   "(default), robust = the training rewards' reading")
    g.add_argument("--system-prompt", metavar="TEXT|FILE", help="system prompt for every item instead of the target's own (a file's text when the path exists)")
    g = p.add_argument_group("sampling")
    g.add_argument("-n", type=positive_int, default=1, help="outputs per item (default %(default)s)")
    g.add_argument("--temperature", type=finite_number(at_least=0), default=0.0, help="0 = greedy; above 0 always samples, whatever the checkpoint's generation_config says (default %(default)s)")
    g.add_argument("--top-p", type=finite_number(above=0, at_most=1), help="nucleus sampling (default 1.0: off; the checkpoint's own value is never used)")
    g.add_argument("--top-k", type=positive_int, help="sample among the k most likely tokens (default: off)")
    g.add_argument("--repetition-penalty", type=positive_float, help="repetition penalty (default 1.0: none)")
    g.add_argument("--max-tokens", type=positive_int, default=DEFAULT_MAX_TOKENS, help="max new tokens per output (default %(default)s)")
    g.add_argument("--seed", type=int, default=0, help="sampling seed (default %(default)s)")
    add_backend_args(p)
    g = p.add_argument_group("run")
    g.add_argument("--cache", help="response cache file to share between runs (default OUT/cache.sqlite)")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    g.add_argument("--dry-run", action="store_true", help="print the first request as the backend would send it, and stop")
    g.add_argument("--overwrite", action="store_true", help="start again: drop OUT's predictions, report and own cache (a shared --cache file is kept)")
    g.add_argument("--log-prompts", action="store_true", help="write each item's rendered prompt into its predictions line (prompt)")
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _one_line_errors(p)
    p.set_defaults(func=cmd_eval)
