"""``videossr train trl``: TRL's GRPOTrainer on one machine, with our rewards and the paper's settings.

Differences from the verl route (see README, Train): frames go in as images with their
timestamps as text (:mod:`videossr.train.trl_data`); no zero-variance group filtering (TRL logs
``frac_reward_zero_std`` instead); no held-out validation during training (evaluate the saved
model with ``videossr eval``); generation with transformers unless you set up TRL's vLLM mode.

Run folder (``--out``)::

    RUN/model/          the trained model + the base model's processor (LoRA merged): loads with
                        AutoModelForImageTextToText / AutoProcessor, i.e. `videossr eval --backend transformers`
    RUN/metrics.jsonl   TRL's log history, one JSON object per logged step (rewards/videossr_*/mean, loss, kl, ...)
    RUN/run.json        settings, GRPOConfig values, data summary (format "videossr-trl-run-v1")
    RUN/checkpoints/    TRL's output_dir (trainer state; no intermediate checkpoints are saved)
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass, field
from pathlib import Path

from videossr.errors import UserError
from videossr.train.data import TrainData
from videossr.train.hparams import PAPER, REWARD_MODES, GRPOHyperparameters

RUN_FORMAT = "videossr-trl-run-v1"
INSTALL_HINT = 'TRL training needs the train extra: pip install -e ".[train]"'
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
    hparams: GRPOHyperparameters = field(default=PAPER)

    def __post_init__(self):
        if self.reward not in REWARD_MODES:
            raise UserError(f"unknown --reward {self.reward!r} (known: {', '.join(REWARD_MODES)})")
        if self.num_generations is not None and self.num_generations < 2:
            raise UserError("--num-generations must be >= 2 (GRPO compares responses within a group)")


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

    One optimizer step sees ``batch_prompts`` groups of ``num_generations`` responses (micro-batches
    of one group, accumulated), as the paper's global batch of 64 prompts x 8 rollouts.
    """
    hp = run.hparams
    generations = run.num_generations or hp.rollouts_per_prompt
    _, weights = reward_functions(run.reward)
    return {
        "output_dir": str(run.out / "checkpoints"),
        "learning_rate": hp.learning_rate,
        "num_train_epochs": hp.epochs,
        "max_steps": run.max_steps or -1,
        "num_generations": generations,
        "per_device_train_batch_size": generations,
        "gradient_accumulation_steps": run.batch_prompts or hp.batch_prompts,
        "beta": hp.kl_loss_coef,
        "entropy_coef": hp.entropy_coef,
        "temperature": hp.temperature,
        "max_completion_length": run.max_completion_tokens or hp.max_response_tokens,
        "reward_weights": weights,
        "scale_rewards": "group",
        "loss_type": "dapo",
        "lr_scheduler_type": "constant",
        "weight_decay": 0.0,
        "logging_steps": 1,
        "save_strategy": "no",
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


def train(run: TrlRun, *, progress: bool = True) -> TrlResult:
    """Train, save ``RUN/model`` (LoRA merged) with the base processor, and write ``metrics.jsonl``/``run.json``."""
    _require(["torch", "transformers", "trl", "datasets"] + (["peft"] if run.lora_r else []))
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig, GRPOTrainer

    from videossr.atomic import write_json, write_jsonl
    from videossr.train.trl_data import trl_dataset

    use_cpu = not torch.cuda.is_available()
    settings = grpo_settings(run, use_cpu=use_cpu, progress=progress)
    model = AutoModelForImageTextToText.from_pretrained(run.model, dtype=torch.float32 if use_cpu else torch.bfloat16)
    funcs, _ = reward_functions(run.reward)
    trainer = GRPOTrainer(
        model=model, reward_funcs=funcs, args=GRPOConfig(**settings),
        train_dataset=trl_dataset(run.data.train, run.frames_per_video),
        processing_class=_training_processor(run.model, run.data.summary),
        peft_config=lora_config(run.lora_r) if run.lora_r else None,
    )
    trainer.train()

    trained = trainer.model.merge_and_unload() if run.lora_r else trainer.model
    model_dir = run.out / "model"
    trained.save_pretrained(model_dir)
    AutoProcessor.from_pretrained(run.model).save_pretrained(model_dir)
    history = list(trainer.state.log_history)
    write_jsonl(run.out / "metrics.jsonl", history)
    write_json(run.out / "run.json", {
        "format": RUN_FORMAT, "model": run.model, "train": str(run.data.train), "reward": run.reward,
        "lora_r": run.lora_r, "frames_per_video": run.frames_per_video, "hparams": asdict(run.hparams),
        "grpo_config": settings, "data_summary": run.data.summary.to_dict(), "steps": trainer.state.global_step,
    })
    return TrlResult(model_dir, trainer.state.global_step, history)
