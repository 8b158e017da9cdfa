"""VIUBench verbs: ``videossr viubench build|baseline|score|export-lmms-eval``."""

from __future__ import annotations

import sys
from pathlib import Path

from videossr.cli.common import add_run_args, positive_int
from videossr.viubench.parsers import DEFAULT_PARSER, PARSERS

DEFAULT_PLOT_MODELS = ("GPT-5", "Gemini-2.5-Pro", "Qwen3-VL-8B-Instruct", "VideoSSR-8B")


def cmd_build(args) -> int:
    from videossr.viubench.bench import BUILD_DIR, build_bench

    report = build_bench(args.video_dir, args.out, per_subset=args.per_subset, seed=args.seed, workers=args.workers,
                         progress=not args.no_progress, engine=args.engine, overwrite=args.overwrite)
    print(report.summary_text())
    if report.items == 0:
        print(f"error: no VIUBench item could be built from {args.video_dir} (see {args.out / BUILD_DIR / 'skipped.jsonl'})", file=sys.stderr)
        return 1
    return 0


def cmd_baseline(args) -> int:
    from videossr.viubench.baselines import write_baseline

    path = write_baseline(args.name, args.bench, args.out, seed=args.seed)
    print(f"wrote {args.name} baseline predictions to {path}")
    return 0


def cmd_score(args) -> int:
    from videossr.viubench.report import score_command

    return score_command(args.predictions, args.bench, compare=args.compare, plot_models=DEFAULT_PLOT_MODELS,
                         json_path=args.json, csv_path=args.csv, plot_path=args.plot, parser=args.parser, ci=args.ci, ci_seed=args.ci_seed)


def cmd_export_lmms_eval(args) -> int:
    from videossr.viubench.lmms_eval import GROUP, export_lmms_eval

    path = export_lmms_eval(args.bench, args.out)
    print(f"wrote the lmms-eval task folder {args.out} (group {GROUP!r}, {path.name})")
    print(f"run: lmms_eval --include_path {args.out} --tasks {GROUP} --model ... with the --model_args in {args.out}/README.md (videossr must be importable there)")
    return 0


def register(verbs) -> None:
    top = verbs.add_parser("viubench", help="VIUBench: build the benchmark, model-free baselines, paper-layout scores, lmms-eval tasks")
    sub = top.add_subparsers(dest="viubench_verb", metavar="VERB", required=True)

    p = sub.add_parser("build", help="build a VIUBench folder (9 subsets) from a folder of videos")
    p.add_argument("video_dir", type=Path, help="folder of videos (searched recursively; never modified)")
    p.add_argument("--out", type=Path, required=True, help="benchmark folder BENCH")
    p.add_argument("--per-subset", type=positive_int, default=300, help="items per subset (default %(default)s, the paper's size)")
    p.add_argument("--seed", type=int, default=0, help="benchmark seed (default %(default)s)")
    p.add_argument("--overwrite", action="store_true", help="replace a benchmark built with other settings")
    add_run_args(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("baseline", help="model-free baseline predictions (chance, random guess, whole-video interval)")
    p.add_argument("name", choices=("chance", "random", "whole-video"),
                   help="chance: the paper's Random Guess definition (uniform counts and orders, whole-video interval); "
                        "random: uniform over every answer space (a random interval for grounding); whole-video: as chance")
    p.add_argument("--bench", type=Path, required=True, help="VIUBench folder")
    p.add_argument("--out", type=Path, required=True, help="predictions JSONL to write")
    p.add_argument("--seed", type=int, default=0, help="guess seed (default %(default)s)")
    p.set_defaults(func=cmd_baseline)

    p = sub.add_parser("score", help="score predictions in the paper's layout (per subset, task, ability, Overall)")
    p.add_argument("predictions", type=Path, nargs="+", help='JSONL files, one {"id", "response"} per line (one table row each)')
    p.add_argument("--bench", type=Path, required=True, help="VIUBench folder the predictions were made on")
    p.add_argument("--compare", nargs="*", metavar="MODEL", default=None,
                   help="print published rows beside yours: model names (or 'Random Guess'), or none for all 13 models and the Random Guess row")
    p.add_argument("--parser", choices=PARSERS, default=DEFAULT_PARSER,
                   help="how answers are read: paper = the paper's bare formats (default), robust = the training rewards' reading")
    p.add_argument("--ci", action="store_true", help="print bootstrap 95%% intervals under each row (the JSON always has them)")
    p.add_argument("--ci-seed", type=int, default=0, help="bootstrap seed (default %(default)s)")
    p.add_argument("--json", type=Path, default=None, help="write the report as JSON")
    p.add_argument("--csv", type=Path, default=None, help="write the table as CSV (published table's columns)")
    p.add_argument("--plot", type=Path, default=None, help="write a grouped bar chart PNG (yours vs the compared rows, "
                   f"default {', '.join(DEFAULT_PLOT_MODELS)})")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("export-lmms-eval", help="write an lmms-eval task folder (group viubench, 9 tasks)")
    p.add_argument("--bench", type=Path, required=True, help="VIUBench folder")
    p.add_argument("--out", type=Path, required=True, help="task folder for lmms_eval --include_path")
    p.set_defaults(func=cmd_export_lmms_eval)

