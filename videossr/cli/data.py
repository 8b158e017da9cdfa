"""Data verbs: sample, build, preview, export, relocate, score, demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from videossr.cli.common import add_run_args as _add_run_args
from videossr.cli.common import positive_int as _positive_int
from videossr.demo import DEFAULT_DEMO_OUT



def _add_sampling_args(p: argparse.ArgumentParser) -> None:
    from videossr.sampling import DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE, DEFAULT_NUM_FRAMES

    p.add_argument("--frames", type=_positive_int, default=DEFAULT_NUM_FRAMES, help="frames kept per video (default %(default)s)")
    p.add_argument("--max-pixels", type=_positive_int, default=DEFAULT_MAX_PIXELS, help="max stored frame area in pixels, aspect kept (default %(default)s = 512*512)")
    p.add_argument("--min-side", type=_positive_int, default=DEFAULT_MIN_SIDE, help="skip videos whose stored frames would be smaller than this (default %(default)s)")
    _add_run_args(p)



def _sampling_config(args):
    from videossr.sampling import SamplingConfig

    return SamplingConfig(num_frames=args.frames, max_pixels=args.max_pixels, min_side=args.min_side)


def cmd_sample(args) -> int:
    from videossr.framestore import sample_folder

    report = sample_folder(args.video_dir, args.out, _sampling_config(args), workers=args.workers, progress=not args.no_progress, engine=args.engine)
    print(report.summary_text())
    if not report.sampled:
        print(f"error: no video under {args.video_dir} could be sampled (see {args.out}/skipped.jsonl)", file=sys.stderr)
        return 1
    return 0


def cmd_build(args) -> int:
    from videossr.build import build
    from videossr.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    if args.seed is not None:
        from dataclasses import replace

        recipe = replace(recipe, seed=args.seed)
    report = build(args.video_dir, args.out, recipe, size=args.size, workers=args.workers, progress=not args.no_progress, engine=args.engine,
                   overwrite=args.overwrite, val_videos=args.val_videos, val_size=args.val_size)
    print(report.summary_text())
    if report.rows == 0:
        print(f"error: no sample could be built from {args.video_dir} (see {args.out}/skipped.jsonl)", file=sys.stderr)
        return 1
    return 0


def cmd_preview(args) -> int:
    from videossr.preview import preview

    out = args.out or (Path(args.dataset) / "previews" if Path(args.dataset).is_dir() else Path("previews"))
    paths = preview(args.dataset, out, n=args.n)
    print(f"wrote {len(paths)} contact sheet(s) to {out}")
    return 0 if paths else 1


def cmd_export(args) -> int:
    from videossr.export import export_eval

    path = export_eval(args.dataset, args.out, limit=args.limit, progress=not args.no_progress, workers=args.workers)
    print(f"wrote {path} (videos under {args.out}/videos)")
    return 0


def cmd_relocate(args) -> int:
    from videossr.export import relocate

    rows = relocate(args.dataset_dir, args.root)
    print(f"rewrote frame paths of {rows} rows in {args.dataset_dir}")
    return 0


def cmd_score(args) -> int:
    from videossr import atomic
    from videossr.score import format_report, score_predictions

    report = score_predictions(args.predictions, args.dataset, parser=args.parser)
    print(format_report(report))
    if args.json:
        atomic.write_json(args.json, report.to_dict())
    if not report.overall.predictions:
        print(f"error: no prediction in {args.predictions} matched a sample of {args.dataset}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(args) -> int:
    from videossr.demo import run_demo

    return run_demo(args.out, workers=args.workers, progress=not args.no_progress)


def register(verbs) -> None:

    p = verbs.add_parser("sample", help="sample frames from every video under a folder into a frame store")
    p.add_argument("video_dir", type=Path, help="folder of videos (searched recursively; never modified)")
    p.add_argument("--out", type=Path, required=True, help="output root (frame store + manifest)")
    _add_sampling_args(p)
    p.set_defaults(func=cmd_sample)

    p = verbs.add_parser("build", help="sample videos and build a training dataset from a recipe (verl parquet)")
    p.add_argument("video_dir", type=Path, help="folder of videos (searched recursively; never modified)")
    p.add_argument("--out", type=Path, required=True, help="output root")
    p.add_argument("--recipe", default="videossr30k", help="built-in recipe name or a .yaml file (default %(default)s)")
    p.add_argument("--size", type=_positive_int, default=None, help="total samples (default: scaled to the number of videos)")
    p.add_argument("--seed", type=int, default=None, help="override the recipe's seed")
    p.add_argument("--val-videos", default=None, metavar="N|FRACTION", help="hold out N videos (or a fraction, e.g. 0.1) and build val.parquet from them; they never appear in train.parquet")
    p.add_argument("--val-size", type=_positive_int, default=None, help="samples in val.parquet (default: the recipe's share per held-out video)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier build in --out made with other settings (recipe, seed, size, val split)")
    _add_run_args(p)
    p.set_defaults(func=cmd_build)

    p = verbs.add_parser("preview", help="PNG contact sheets of dataset samples with the answer marked")
    p.add_argument("dataset", type=Path, help="dataset folder (from build) or a parquet file")
    p.add_argument("--n", type=_positive_int, default=8, help="number of samples (default %(default)s)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default DATASET/previews)")
    p.set_defaults(func=cmd_preview)

    p = verbs.add_parser("export", help="evaluation export: eval.json {video, question, answer} + mp4 per sample")
    p.add_argument("dataset", type=Path, help="dataset folder (from build) or a parquet file")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--limit", type=_positive_int, default=None, help="export only the first N samples")
    p.add_argument("--workers", type=_positive_int, default=None, help="parallel encoder processes (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_export)

    p = verbs.add_parser("relocate", help="rewrite frame paths after moving a dataset folder")
    p.add_argument("dataset_dir", type=Path, help="the moved dataset folder")
    p.add_argument("--root", default=None, help="path the folder will have where training runs (default: its current absolute path)")
    p.set_defaults(func=cmd_relocate)

    p = verbs.add_parser("score", help="score model outputs against a dataset: mean rewards per task and variant")
    p.add_argument("predictions", type=Path, help='JSONL, one {"sample_id" (or "index"), "response"} object per line')
    p.add_argument("--dataset", type=Path, required=True, help="dataset folder (from build) or a parquet file")
    p.add_argument("--json", type=Path, default=None, help="also write the report as JSON to this file")
    p.add_argument("--parser", choices=("paper", "robust"), default="robust",
                   help="how answers are read: robust = the training rewards' reading (default), paper = the paper's bare formats")
    p.set_defaults(func=cmd_score)

    p = verbs.add_parser("demo", help="run the whole pipeline on the built-in sample clips")
    p.add_argument("--out", type=Path, default=Path(DEFAULT_DEMO_OUT), help="output root (default %(default)s)")
    p.add_argument("--workers", type=_positive_int, default=None, help="parallel worker processes (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=cmd_demo)
