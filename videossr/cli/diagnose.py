"""Diagnose verbs: ``videossr diagnose`` (zero-variance diagnostic) and ``videossr calibrate`` (difficulty calibration)."""

from __future__ import annotations

import argparse
from pathlib import Path

from videossr.cli.common import add_backend_args, backend_options, positive_int


def _make_backend(args, **extra):
    from videossr.backends import get_backend

    return get_backend(args.backend, **{**backend_options(args), **extra})


def _add_backend_args(p: argparse.ArgumentParser) -> None:
    from videossr.backends.base import DEFAULT_MAX_TOKENS

    add_backend_args(p)
    p.add_argument("-k", type=positive_int, default=8, help="answers sampled per question (default %(default)s, the paper's group size)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default %(default)s, as in GRPO rollouts)")
    p.add_argument("--max-tokens", type=positive_int, default=DEFAULT_MAX_TOKENS, help="max new tokens per answer (default %(default)s, as eval)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _sampling(args) -> dict:
    return {"temperature": args.temperature, "max_tokens": args.max_tokens, "seed": args.seed}


def cmd_diagnose(args) -> int:
    from contextlib import nullcontext

    from videossr.diagnose import diagnose

    out = args.out or Path(f"diagnose-{args.target.stem or 'target'}")
    # replay matches answers to items by id, so it is built on the loaded target (its close does nothing);
    # any other backend is built here and closed when done, as eval and calibrate do
    made = nullcontext(lambda target: _make_backend(args, target=target)) if args.backend == "replay" else _make_backend(args)
    with made as backend:
        result = diagnose(args.target, backend, out, k=args.k, limit=args.limit, task=args.task, video_dir=args.video_dir, max_frames=args.max_frames,
                          progress=not args.no_progress, overwrite=args.overwrite, **_sampling(args))
    print(result.summary_text())
    return 0 if result.stats else 1


def cmd_calibrate(args) -> int:
    import sys

    from videossr.diagnose.calibrate import PROBE_TABLE_HEAD, CalibrationRefused, CalibrationSettings, calibrate, probe_line

    settings = CalibrationSettings(target=args.target, tolerance=args.tolerance, probe_size=args.probe, k=args.k, **_sampling(args))
    with _make_backend(args) as backend:
        print(f"calibrating {args.task} for a mean smooth reward of {args.target} ± {args.tolerance} ({args.probe} samples x {args.k} answers per probe)")
        print(PROBE_TABLE_HEAD)
        try:
            result = calibrate(args.video_dir, backend, args.task, out=args.out, work_dir=args.work, settings=settings, start=args.start,
                               workers=args.workers, progress=not args.no_progress, on_probe=lambda p: print(probe_line(p), flush=True))
        except CalibrationRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(result.summary_text())
    return 0


def register(verbs) -> None:
    from videossr.diagnose.ladders import LADDERS

    p = verbs.add_parser("diagnose", help="how many questions still teach this model: k answers each, zero-variance share, Figure-1 histogram (JSON + PNG)")
    p.add_argument("target", type=Path, help="a build dataset (folder or parquet), a VIUBench folder, or an outside {video, question, answer} JSON")
    p.add_argument("--out", type=Path, default=None, help="output folder (default diagnose-<target name>)")
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N questions")
    p.add_argument("--video-dir", type=Path, default=None, help="outside JSON only: the folder its videos are in")
    p.add_argument("--task", choices=("vqa", "vtg"), default=None, help="outside JSON only: multiple-choice VQA or temporal grounding (default: detected)")
    p.add_argument("--max-frames", type=positive_int, default=None, help="outside JSON only: frames per video (fps 2 capped at this, default 32)")
    p.add_argument("--overwrite", action="store_true", help="drop earlier predictions in --out made with other settings")
    _add_backend_args(p)
    p.set_defaults(func=cmd_diagnose)

    p = verbs.add_parser("calibrate", help="turn a task's difficulty knobs until the model's mean smooth reward hits a target; write the recipe")
    p.add_argument("video_dir", type=Path, help="folder of videos to build the probe sets from (never modified)")
    p.add_argument("--task", required=True, choices=tuple(LADDERS), help="task whose difficulty ladder is searched")
    p.add_argument("--target", type=float, default=0.5, help="mean smooth reward to reach (default %(default)s)")
    p.add_argument("--tolerance", type=float, default=0.05, help="stop when the reward is this close to the target (default %(default)s)")
    p.add_argument("--probe", type=positive_int, default=64, help="samples built per probed setting (default %(default)s)")
    p.add_argument("--start", default=None, help="first rung to probe: its number or its label as printed, e.g. n=8 (default: the task's default setting)")
    p.add_argument("--out", type=Path, default=Path("recipe.yaml"), help="recipe YAML to write (default %(default)s)")
    p.add_argument("--work", type=Path, default=None, help="folder for probe builds and predictions (default: --out with .calibrate for .yaml)")
    p.add_argument("--workers", type=positive_int, default=None, help="build worker processes (default: all cores)")
    _add_backend_args(p)
    p.set_defaults(func=cmd_calibrate)
