"""Train verbs: ``videossr train verl`` (the paper's GRPO run), ``videossr train trl`` (one machine) and
``videossr train merge`` (a verl checkpoint as a Hugging Face folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from videossr.cli.common import positive_int
from videossr.train.hparams import FILTER_METRICS, REWARD_MODES
from videossr.train.trl import SAVE_LIMIT, SAVE_STEPS, VIDEO_AS
from videossr.train.verl import DEFAULT_LOGGERS, KEEP_CHECKPOINTS, ROLLOUTS, SAVE_FREQ_STEPS


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="a folder written by `videossr build` (its train.parquet), or a parquet file")
    p.add_argument("--model", required=True, help="Hugging Face model folder or hub id (paper: Qwen/Qwen3-VL-8B-Instruct)")
    p.add_argument("--reward", choices=REWARD_MODES, default="smooth", help="training reward: smooth (the paper's) or strict exact match (its ablation); default %(default)s")


def add_run_folder_args(p: argparse.ArgumentParser, route: str) -> None:
    """``--out``, ``--resume``, ``--overwrite``: the run-folder rules of :mod:`videossr.train.runs`."""
    p.add_argument("--out", default=None, help=f"run folder (default: a new runs/{route}-REWARD-YYYYmmdd-HHMMSS)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    p.add_argument("--overwrite", action="store_true", help="delete the checkpoints in --out and start over")


def run_folder(args, route: str) -> Path:
    """The ``--out`` folder, or a new unique one; ``--resume`` needs an explicit ``--out``."""
    from videossr.train.runs import default_out

    if args.resume and args.overwrite:
        raise ValueError("--resume continues the run in --out, --overwrite starts it again: pass one")
    if args.out is None and (args.resume or getattr(args, "resume_from", None)):
        raise ValueError("--resume needs --out: the run folder to continue")
    return Path(args.out).expanduser().resolve() if args.out else default_out(route, args.reward).resolve()


def add_live_args(p: argparse.ArgumentParser) -> None:
    """``--live`` and the controller's knobs (README, "Live difficulty")."""
    g = p.add_argument_group("live difficulty")
    g.add_argument("--live", action="store_true", help="generate every sample during training at a difficulty steered by the rollouts' rewards "
                   "(the --data build's store, recipe and plan; its entries must start at their ladder's default)")
    g.add_argument("--live-inline", action="store_true", help="perturbed frames as data URIs in the rows instead of files under RUN/live-frames")
    g.add_argument("--live-band", type=_band, default=None, metavar="LOW,HIGH", help="target mean smooth reward per task (default 0.35,0.75)")
    g.add_argument("--live-min-groups", type=positive_int, default=None, help="new groups a decision needs (default 16)")
    g.add_argument("--live-max-zero-variance", type=float, default=None, help="largest share of groups without reward variance held inside the band (default 0.5)")


def _band(text: str) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be LOW,HIGH, e.g. 0.35,0.75 (got {text!r})") from None
    return low, high


def live_options(args) -> dict:
    """The run fields of ``--live*`` (the controller's knobs as (name, value) pairs, checked by ControllerConfig)."""
    if not args.live:
        if args.live_inline or args.live_band or args.live_min_groups or args.live_max_zero_variance is not None:
            raise ValueError("--live-* options need --live")
        return {}
    knobs = {"band": args.live_band, "min_groups": args.live_min_groups, "max_zero_variance": args.live_max_zero_variance}
    knobs = {k: v for k, v in knobs.items() if v is not None}
    from videossr.live.controller import ControllerConfig

    ControllerConfig(**knobs)  # a bad knob is one line now, not after the model loaded
    return {"live": True, "live_inline": args.live_inline, "live_controller": tuple(sorted(knobs.items()))}


def _loggers(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def cmd_verl(args) -> int:
    from videossr.train.data import resolve
    from videossr.train.verl import VerlRun, plan
    from videossr.train.verl_launch import launch

    extra = list(args.overrides)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    run = VerlRun(
        data=resolve(args.data, args.val), model=args.model, out=run_folder(args, "verl"),
        gpus_per_node=args.gpus_per_node, nnodes=args.nnodes, reward=args.reward,
        filter_zero_variance=args.filter_zero_variance, filter_metric=args.filter_metric, rollout=args.rollout,
        ray_address=args.ray_address, extra_overrides=tuple(extra), python=args.python, resume=args.resume,
        overwrite=args.overwrite, resume_from=Path(args.resume_from).expanduser().resolve() if args.resume_from else None,
        experiment=args.experiment, loggers=args.logger, save_hf=args.save_hf, save_freq=args.save_freq,
        keep_checkpoints=args.keep_checkpoints, **live_options(args),
    )
    p = plan(run)
    for note in p.notes:
        print(f"note: {note}")
    if args.dry_run:
        print(p.command_line)
        return 0
    print(f"run folder {run.out} (train.sh, command.txt, run.json{', runtime_env.yaml' if p.runtime_env else ''})")
    return launch(p)


def cmd_merge(args) -> int:
    from videossr.train.merge import find, merge

    job = find(args.run, step=args.step, target=args.target)
    print(f"merging {job.actor} -> {job.target}")
    print(merge(job, python=args.python))
    return 0


def cmd_trl(args) -> int:
    from videossr.train.data import NO_VAL, resolve
    from videossr.train.trl import TrlRun, train

    # no validation during TRL training: evaluate RUN/model with `videossr eval`
    run = TrlRun(
        data=resolve(args.data, NO_VAL), model=args.model, out=run_folder(args, "trl"), reward=args.reward,
        max_steps=args.max_steps, lora_r=args.lora_r, frames_per_video=args.frames, batch_prompts=args.batch_prompts,
        num_generations=args.num_generations, max_completion_tokens=args.max_completion_tokens, seed=args.seed,
        video_as=args.video_as, generation_batch=args.generation_batch, save_steps=args.save_steps, save_limit=args.save_limit,
        resume=args.resume, overwrite=args.overwrite, **live_options(args),
    )
    result = train(run, progress=not args.no_progress)
    print(result.summary_text())
    return 0


def register(verbs) -> None:
    train = verbs.add_parser("train", help="GRPO training on a build: verl (paper recipe, Ray clusters) or TRL (one machine)")
    routes = train.add_subparsers(dest="route", metavar="ROUTE", required=True)

    p = routes.add_parser("verl", help="the paper's GRPO run with verl 0.9 (writes train.sh; runs it, or submits it to Ray)",
                          description="Everything after `--` is passed to verl as Hydra overrides, e.g. -- trainer.save_freq=20")
    _add_data_args(p)
    p.add_argument("--val", default=None, help="held-out parquet or build folder (default: the data folder's val.parquet when present; 'none' disables)")
    p.add_argument("--gpus-per-node", type=positive_int, default=8, help="GPUs on each node (default %(default)s)")
    p.add_argument("--nnodes", type=positive_int, default=1, help="nodes of the Ray cluster (default %(default)s)")
    p.add_argument("--filter-zero-variance", action="store_true", help="drop GRPO groups whose rewards are all equal and refill the batch (verl filter_groups)")
    p.add_argument("--filter-metric", choices=FILTER_METRICS, default=None, help="reward key the filter looks at (default: the --reward)")
    p.add_argument("--rollout", choices=ROLLOUTS, default="vllm", help="rollout engine (default %(default)s)")
    p.add_argument("--ray-address", default=None, help="submit to a running Ray cluster with `ray job submit`, e.g. http://HEAD:8265")
    p.add_argument("--python", default=None, help="interpreter of the verl venv, used for the trainer and every Ray worker (default: this one; same path on every node)")
    add_run_folder_args(p, "verl")
    p.add_argument("--resume-from", default=None, help="continue from this global_step_N folder (verl resume_mode=resume_path)")
    p.add_argument("--experiment", default=None, help="experiment name for the loggers (default: the run folder's name)")
    p.add_argument("--logger", type=_loggers, default=DEFAULT_LOGGERS, help="comma list of console,tensorboard,wandb,file (default console,tensorboard: RUN/tensorboard)")
    p.add_argument("--save-hf", action="store_true", help="each checkpoint also holds a Hugging Face copy (actor/huggingface), ready for `videossr eval`")
    p.add_argument("--save-freq", type=positive_int, default=SAVE_FREQ_STEPS, help="checkpoint every N steps; the last step is always saved (default %(default)s)")
    p.add_argument("--keep-checkpoints", type=positive_int, default=KEEP_CHECKPOINTS, help="keep the newest N checkpoints (default %(default)s; ~100 GB each for 8B)")
    p.add_argument("--dry-run", action="store_true", help="only print the cost estimate and the command; writes nothing")
    add_live_args(p)
    p.add_argument("overrides", nargs=argparse.REMAINDER, help="-- then Hydra overrides for verl")
    p.set_defaults(func=cmd_verl)

    p = routes.add_parser("trl", help="TRL GRPOTrainer on one machine (Qwen3-VL video tokens; CPU works for tiny models)")
    _add_data_args(p)
    p.add_argument("--video-as", choices=VIDEO_AS, default="video",
                   help="video: each clip as Qwen3-VL video tokens, as `videossr eval` and verl see it (default); images: frames as images with <t seconds> texts (plain TRL)")
    p.add_argument("--generation-batch", type=positive_int, default=1,
                   help="prompts per generation call = per micro-batch (x --num-generations responses); must divide --batch-prompts (default %(default)s)")
    p.add_argument("--save-steps", type=int, default=SAVE_STEPS, help="checkpoint every N optimizer steps and at the end; 0: none (default %(default)s)")
    p.add_argument("--save-limit", type=positive_int, default=SAVE_LIMIT, help="checkpoints kept, latest first (default %(default)s)")
    add_run_folder_args(p, "trl")
    p.add_argument("--max-steps", type=positive_int, default=None, help="stop after N optimizer steps (default: one epoch)")
    p.add_argument("--lora-r", type=positive_int, default=None, help="train LoRA adapters of this rank (merged into the saved model)")
    p.add_argument("--frames", type=positive_int, default=None, help="--video-as images: frames per video shown as images, evenly spaced (default: all)")
    p.add_argument("--batch-prompts", type=positive_int, default=None, help="prompts per optimizer step (default: the paper's 64)")
    p.add_argument("--num-generations", type=positive_int, default=None, help="rollouts per prompt (default: the paper's 8)")
    p.add_argument("--max-completion-tokens", type=positive_int, default=None, help="response length limit (default: the paper's 2048)")
    p.add_argument("--seed", type=int, default=0, help="trainer seed (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_live_args(p)
    p.set_defaults(func=cmd_trl)

    p = routes.add_parser("merge", help="a verl run's FSDP checkpoint as a Hugging Face folder (verl.model_merger), for `videossr eval`")
    p.add_argument("run", help="a `videossr train verl` run folder")
    p.add_argument("--step", type=positive_int, default=None, help="global step to merge (default: the latest checkpoint)")
    p.add_argument("--target", default=None, help="output folder (default RUN/hf/global_step_N)")
    p.add_argument("--python", default=None, help="interpreter with verl (default: this one)")
    p.set_defaults(func=cmd_merge)
