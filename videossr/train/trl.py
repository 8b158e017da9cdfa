"""``videossr train trl``: TRL's GRPOTrainer on one machine, with our rewards and the paper's settings.

Clips go in as Qwen3-VL video tokens, processed as `videossr eval` and verl's rollout process
them (:mod:`videossr.train.trl_video`); ``--video-as images`` trains plain TRL on frames as images
with their timestamps as text (:mod:`videossr.train.trl_data`). Generation is on-policy: one
micro-batch of prompts (``generation_batch``, default 1 prompt x ``num_generations``) per
generation call, ``steps_per_generation=1``, accumulated to the paper's 64 prompts per optimizer
step. Differences from the verl route (see README, Train): no zero-variance group filtering (TRL
logs ``frac_reward_zero_std`` instead); no held-out validation during training (evaluate the
saved model with ``videossr eval``); generation with transformers, not vLLM.

Run folder (``--out``)::

    RUN/model/          the trained model + the base model's processor (LoRA merged): loads with
                        AutoModelForImageTextToText / AutoProcessor, i.e. `videossr eval --backend transformers`
    RUN/metrics.jsonl   TRL's log history, one JSON object per logged step (rewards/videossr_*/mean, loss, kl, ...)
    RUN/run.json        settings, GRPOConfig values, data summary (format "videossr-trl-run-v1")
    RUN/checkpoints/    TRL's output_dir: checkpoint-STEP/ every ``save_steps`` steps and at the end (model,
                        optimizer, scheduler, RNG, trainer state), the latest ``save_limit`` kept; ``resume``
                        continues from the latest one. A folder with an earlier run's checkpoints or model
                        is refused unless ``resume`` or ``overwrite`` is set.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from videossr.errors import UserError
from videossr.train.data import TrainData
from videossr.train.hparams import PAPER, REWARD_MODES, GRPOHyperparameters

RUN_FORMAT = "videossr-trl-run-v1"
INSTALL_HINT = 'TRL training needs the train extra: pip install -e ".[train]"'
VIDEO_AS = ("video", "images")
"""``video``: Qwen3-VL video tokens (as evaluation sees them); ``images``: frames as images + timestamp texts."""
WEIGHT_DECAY = 0.01
"""The paper's and verl's actor optimizer weight decay (AdamW)."""
SAVE_STEPS, SAVE_LIMIT = 50, 2
"""Checkpoint every 50 optimizer steps (verl's save_freq) and at the end; keep the latest 2 (~3x the model size each with
AdamW states)."""
LORA_TARGETS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
"""LoRA on the language model's attention and MLP projections; the vision tower stays frozen."""


@dataclass(frozen=True)
class TrlRun:
    """One TRL GRPO run; ``None`` settings take the paper's value (``hparams``)."""

    data: TrainData
    model: str
    out: Path
    reward: str = "smooth"
    max_steps: int | None = None
    lora_r: int | None = None
    frames_per_video: int | None = None
    batch_prompts: int | None = None
    num_generations: int | None = None
    max_completion_tokens: int | None = None
    seed: int = 0
    video_as: str = "video"
    generation_batch: int = 1
    save_steps: int = SAVE_STEPS
    save_limit: int = SAVE_LIMIT
    resume: bool = False
    overwrite: bool = False
    live: bool = False
    """Live difficulty (``videossr.live``): items generated during training at the controller's rungs."""
    live_inline: bool = False
    live_controller: tuple = ()
    """(name, value) pairs for :class:`videossr.live.controller.ControllerConfig` (band, min_groups, ...)."""
    hparams: GRPOHyperparameters = field(default=PAPER)

    def __post_init__(self):
        if self.reward not in REWARD_MODES:
            raise UserError(f"unknown --reward {self.reward!r} (known: {', '.join(REWARD_MODES)})")
        if self.num_generations is not None and self.num_generations < 2:
            raise UserError("--num-generations must be >= 2 (GRPO compares responses within a group)")
        if self.video_as not in VIDEO_AS:
            raise UserError(f"unknown --video-as {self.video_as!r} (known: {', '.join(VIDEO_AS)})")
        if self.video_as == "video" and self.frames_per_video is not None:
            raise UserError("--frames applies to --video-as images; video tokens keep every frame, as evaluation does")
        prompts = self.batch_prompts or self.hparams.batch_prompts
        if self.generation_batch < 1 or prompts % self.generation_batch:
            raise UserError(f"--generation-batch {self.generation_batch} must divide the {prompts} prompts of an optimizer step")
        if self.resume and self.overwrite:
            raise UserError("--resume continues the run in --out, --overwrite starts it again: pass one")
        if self.save_steps < 0 or self.save_limit < 1:
            raise UserError("--save-steps must be >= 0 (0: no checkpoints) and --save-limit >= 1")


@dataclass(frozen=True)
class TrlResult:
    model_dir: Path
    steps: int
    log_history: list[dict]

    def reward_means(self) -> dict[str, float]:
        """Mean over logged steps of each ``rewards/<name>/mean`` TRL logged."""
        sums: dict[str, list[float]] = {}
        for entry in self.log_history:
            for key, value in entry.items():
                if key.startswith("rewards/") and key.endswith("/mean"):
                    sums.setdefault(key.split("/")[1], []).append(float(value))
        return {name: sum(values) / len(values) for name, values in sums.items()}

    def summary_text(self) -> str:
        rewards = ", ".join(f"{name} {value:.3f}" for name, value in sorted(self.reward_means().items()))
        return f"trained {self.steps} step(s); mean rewards: {rewards or 'none logged'}\nmodel: {self.model_dir}"


def reward_functions(training: str) -> tuple[list, list[float]]:
    """The training reward (weight 1) plus the other reward and format_ok, logged with weight 0."""
    from videossr.rewards.trl import VideoSSRReward

    other = "strict" if training == "smooth" else "smooth"
    return [VideoSSRReward(training), VideoSSRReward(other), VideoSSRReward("format")], [1.0, 0.0, 0.0]


def grpo_settings(run: TrlRun, *, use_cpu: bool, progress: bool = True) -> dict:
    """GRPOConfig keyword arguments: the paper's hyperparameters where TRL has them.

    One optimizer step sees ``batch_prompts`` groups of ``num_generations`` responses, as the
    paper's global batch of 64 prompts x 8 rollouts: micro-batches of ``generation_batch`` groups,
    each generated right before its forward/backward pass (``steps_per_generation=1``: never the
    whole 512-response batch in one generate call), accumulated over the step; the policy does not
    change within a step, so every response is on-policy.
    """
    hp = run.hparams
    generations = run.num_generations or hp.rollouts_per_prompt
    prompts = run.batch_prompts or hp.batch_prompts
    _, weights = reward_functions(run.reward)
    return {
        "output_dir": str(run.out / "checkpoints"),
        "learning_rate": hp.learning_rate,
        "num_train_epochs": hp.epochs,
        "max_steps": run.max_steps or -1,
        "num_generations": generations,
        "per_device_train_batch_size": generations * run.generation_batch,
        "gradient_accumulation_steps": prompts // run.generation_batch,
        "steps_per_generation": 1,
        "beta": hp.kl_loss_coef,
        "entropy_coef": hp.entropy_coef,
        "temperature": hp.temperature,
        "max_completion_length": run.max_completion_tokens or hp.max_response_tokens,
        "reward_weights": weights,
        "scale_rewards": "group",
        "loss_type": "dapo",
        "lr_scheduler_type": "constant",
        "weight_decay": WEIGHT_DECAY,
        "logging_steps": 1,
        "save_strategy": "steps" if run.save_steps else "no",
        "save_steps": run.save_steps or SAVE_STEPS,
        "save_total_limit": run.save_limit,
        "report_to": "none",
        "seed": run.seed,
        "use_cpu": use_cpu,
        "bf16": not use_cpu,
        "gradient_checkpointing": not use_cpu,
        "remove_unused_columns": False,
        "dataloader_num_workers": 0,
        "disable_tqdm": not progress,
        "log_completions": False,
    }


def lora_config(rank: int):
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=LORA_TARGETS, task_type="CAUSAL_LM")


def _require(modules: list[str]) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise UserError(f"{', '.join(missing)} not installed. {INSTALL_HINT}")


def _training_processor(model_path: str, summary):
    """The base processor with the data's per-frame pixel limits for images (the saved one keeps the base's)."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(model_path)
    image_processor = processor.image_processor
    if hasattr(image_processor, "size") and summary.max_pixels:
        image_processor.size = {"shortest_edge": summary.min_pixels or summary.max_pixels, "longest_edge": summary.max_pixels}
    return processor


def checkpoints(out: Path) -> list[Path]:
    """TRL's ``checkpoint-STEP`` folders under ``out/checkpoints``, oldest first."""
    found = [p for p in (Path(out) / "checkpoints").glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.split("-")[-1]))


def prepare_run_folder(run: TrlRun) -> Path | None:
    """Refuse to train over an earlier run unless told how; returns the checkpoint to resume from.

    ``resume``: the latest checkpoint (UserError when there is none). ``overwrite``: the earlier
    run's checkpoints and model are deleted first. Neither: UserError when ``out`` has any.
    """
    found, model_dir = checkpoints(run.out), run.out / "model"
    if run.resume:
        if not found:
            raise UserError(f"--resume: no checkpoint in {run.out / 'checkpoints'} to continue from")
        return found[-1]
    if found or model_dir.exists():
        if not run.overwrite:
            what = f"{len(found)} checkpoint(s)" if found else "a trained model"
            raise UserError(f"{run.out} holds {what} of an earlier run: pass --resume to continue it, --overwrite to start "
                            "again, or another --out")
        shutil.rmtree(run.out / "checkpoints", ignore_errors=True)
        shutil.rmtree(model_dir, ignore_errors=True)
    return None


LIVE_STATE_FILE, LIVE_FRAMES_DIR = "live-controller.json", "live-frames"


@dataclass(frozen=True)
class LiveParts:
    hub: object  # videossr.live.hub.LiveHub
    live: object  # videossr.live.dataset.LiveDataset
    dataset: object  # the datasets.Dataset TRL reads
    reward: object  # videossr.live.trl.LiveReward


def live_parts(run: TrlRun, generations: int) -> LiveParts:
    """The pieces of a live run: the controller in this process (its state in RUN), the live dataset, the training reward."""
    from videossr.live.dataset import LiveDataset
    from videossr.live.hub import LiveHub
    from videossr.live.trl import LiveReward, live_trl_dataset
    from videossr.train.trl_data import example_maker

    live = LiveDataset(Path(run.data.train).parent, None if run.live_inline else run.out / LIVE_FRAMES_DIR, inline=run.live_inline)
    hub = LiveHub(sorted({a.entry.task for a in live.plan}), rollouts=generations, state_path=str(run.out / LIVE_STATE_FILE),
                  config=dict(run.live_controller))
    live.rung_of = hub.rung
    return LiveParts(hub, live, live_trl_dataset(live, example_maker(run.video_as, run.frames_per_video)), LiveReward(hub, run.reward))


def _trainer(run: TrlRun, settings: dict, model, live: LiveParts | None = None):
    """The video-token trainer (default) or plain TRL on frames as images (on a live dataset with ``live``)."""
    from trl import GRPOConfig, GRPOTrainer

    funcs, _ = reward_functions(run.reward)
    if live is not None:
        funcs[0] = live.reward  # the training reward also steers the controller
    common = {"model": model, "reward_funcs": funcs, "args": GRPOConfig(**settings),
              "peft_config": lora_config(run.lora_r) if run.lora_r else None}
    if run.video_as == "video":
        from transformers import AutoProcessor

        from videossr.train.trl_data import trl_video_dataset
        from videossr.train.trl_video import video_grpo_trainer

        dataset = live.dataset if live is not None else trl_video_dataset(run.data.train)
        return video_grpo_trainer(**common, train_dataset=dataset, processing_class=AutoProcessor.from_pretrained(run.model))
    from videossr.train.trl_data import trl_dataset

    dataset = live.dataset if live is not None else trl_dataset(run.data.train, run.frames_per_video)
    return GRPOTrainer(**common, train_dataset=dataset, processing_class=_training_processor(run.model, run.data.summary))


def train(run: TrlRun, *, progress: bool = True) -> TrlResult:
    """Train, save ``RUN/model`` (LoRA merged) with the base processor, and write ``metrics.jsonl``/``run.json``."""
    _require(["torch", "transformers", "trl", "datasets"] + (["peft"] if run.lora_r else []) + (["qwen_vl_utils"] if run.video_as == "video" else []))
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from videossr.atomic import write_json, write_jsonl

    resume_from = prepare_run_folder(run)
    use_cpu = not torch.cuda.is_available()
    settings = grpo_settings(run, use_cpu=use_cpu, progress=progress)
    model = AutoModelForImageTextToText.from_pretrained(run.model, dtype=torch.float32 if use_cpu else torch.bfloat16)
    live = live_parts(run, settings["num_generations"]) if run.live else None
    trainer = _trainer(run, settings, model, live)
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    if live is not None:
        live.hub.save()
        for d in live.hub.decisions(moved_only=True):
            print(f"live: step {d['step']} {d['task']} rung {d['from_rung']} -> {d['to_rung']} ({d['reason']})")

    trained = trainer.model.merge_and_unload() if run.lora_r else trainer.model
    model_dir = run.out / "model"
    trained.save_pretrained(model_dir)
    AutoProcessor.from_pretrained(run.model).save_pretrained(model_dir)
    history = list(trainer.state.log_history)
    write_jsonl(run.out / "metrics.jsonl", history)
    write_json(run.out / "run.json", {
        "format": RUN_FORMAT, "model": run.model, "train": str(run.data.train), "reward": run.reward, "video_as": run.video_as,
        "lora_r": run.lora_r, "frames_per_video": run.frames_per_video, "generation_batch": run.generation_batch,
        "resumed_from": str(resume_from) if resume_from else None, "hparams": asdict(run.hparams),
        "grpo_config": settings, "data_summary": run.data.summary.to_dict(), "steps": trainer.state.global_step,
        "live": {"state": LIVE_STATE_FILE, "rungs": live.hub.rungs(), "moves": len(live.hub.decisions(moved_only=True)),
                 "items_made": live.live.stats.items, "ms_per_item": round(live.live.stats.ms_per_item, 2)} if live is not None else None,
    })
    return TrlResult(model_dir, trainer.state.global_step, history)
