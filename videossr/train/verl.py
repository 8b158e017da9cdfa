"""``videossr train verl``: the paper's GRPO run as one ``verl.trainer.main_ppo`` command (verl 0.9.1).

:func:`plan` turns a :class:`VerlRun` into Hydra overrides (the paper's hyperparameters, our
reward plug-in, the keys verl 0.9 requires, Qwen3-VL settings and limits read from the data),
the command and, for a Ray cluster, a runtime environment and the ``ray job submit`` command.
:mod:`videossr.train.verl_launch` writes them into the run folder and runs them.

The command runs verl with the interpreter that runs videossr (or ``python=``), and hands the
same interpreter to every Ray worker (``py_executable`` in verl's ``ray_kwargs.ray_init.runtime_env``,
for a local run and a submitted job alike). The run folder follows
:mod:`videossr.train.runs`: a folder with checkpoints is refused unless the run resumes or
overwrites, and ``trainer.resume_mode`` always says which.

Run folder (``--out``)::

    RUN/train.sh            runnable: bash RUN/train.sh [more Hydra overrides]
    RUN/command.txt         the exact command, one line
    RUN/run.json            settings, data summary, overrides, cost estimate, every launch (format "videossr-verl-run-v1")
    RUN/runtime_env.yaml    only with --ray-address: env vars and our code for every Ray worker
    RUN/train.log           console log of a local run (train.sh tees into it)
    RUN/tensorboard/        TensorBoard events (logger tensorboard)
    RUN/checkpoints/        trainer.default_local_dir: global_step_N/actor (FSDP shards; huggingface/ with --save-hf)
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from videossr.errors import UserError
from videossr.train import runs
from videossr.train.cost import estimate
from videossr.train.data import TrainData
from videossr.train.hparams import FILTER_METRICS, PAPER, REWARD_MODES, GRPOHyperparameters

RUN_FORMAT = "videossr-verl-run-v1"
RUNTIME_ENV_FILE = "runtime_env.yaml"
ENTRY_MODULE = "verl.trainer.main_ppo"
ROLLOUTS = ("vllm", "sglang")
REWARD_PLUGIN = "pkg://videossr.rewards.verl"
REWARD_FUNCTIONS = {"smooth": "compute_score", "strict": "compute_score_strict"}
IMAGE_PATCH_SIZE = 16
"""Qwen3-VL's vision patch (verl's default, 14, is Qwen2.5-VL's)."""

ROLLOUT_GPU_MEMORY = 0.6
SAVE_FREQ_STEPS = 50
"""verl always saves the last step too (save_freq > 0): the final model the paper evaluates."""
KEEP_CHECKPOINTS = 2
"""``trainer.max_actor_ckpt_to_keep``: an 8B actor checkpoint with optimizer state is ~100 GB."""
TEST_FREQ_STEPS = 10
LOGGERS = ("console", "tensorboard", "wandb", "file")
DEFAULT_LOGGERS = ("console", "tensorboard")
"""No account needed; wandb (verl's own default) needs ``wandb login`` or WANDB_API_KEY on the nodes."""
TENSORBOARD_DIR = "tensorboard"
SAVE_CONTENTS = ("model", "optimizer", "extra")
"""verl's default; ``--save-hf`` adds ``hf_model`` (a Hugging Face copy in global_step_N/actor/huggingface)."""
_GLOBAL_STEP = re.compile(r"^global_step_\d+$")
RUNTIME_ENV_VARS = {
    "TOKENIZERS_PARALLELISM": "true",
    "NCCL_DEBUG": "WARN",
    "VLLM_LOGGING_LEVEL": "WARN",
    "PYTHONUNBUFFERED": "1",
}
"""Job-level env vars; verl's own defaults for these are dropped when the driver already has them,
so they never conflict with the runtime env verl's ``ray.init`` adds."""

INSTALL_HINT = 'verl is not installed for this Python: pip install "videossr[verl-gpu]" (GPU machines, its own venv; see README, Train)'
_PLAIN_VALUE = re.compile(r"^[\w/.\-:~+@%]*$")


@dataclass(frozen=True)
class VerlRun:
    """One GRPO run. ``extra_overrides`` are Hydra overrides applied last (they replace ours per key)."""

    data: TrainData
    model: str
    out: Path
    gpus_per_node: int = 8
    nnodes: int = 1
    reward: str = "smooth"
    filter_zero_variance: bool = False
    filter_metric: str | None = None
    rollout: str = "vllm"
    ray_address: str | None = None
    extra_overrides: tuple[str, ...] = ()
    hparams: GRPOHyperparameters = field(default=PAPER)
    python: str | None = None
    """Interpreter that runs verl and its Ray workers (default: the one running videossr; on a cluster
    it must exist at the same path on every node)."""
    resume: bool = False
    overwrite: bool = False
    resume_from: Path | None = None
    """A ``global_step_N`` folder to resume from (verl's ``resume_mode=resume_path``); implies ``resume``."""
    experiment: str | None = None
    loggers: tuple[str, ...] = DEFAULT_LOGGERS
    save_hf: bool = False
    save_freq: int = SAVE_FREQ_STEPS
    keep_checkpoints: int = KEEP_CHECKPOINTS
    live: bool = False
    """Live difficulty (``videossr.live``): items generated during training at the controller's rungs."""
    live_inline: bool = False
    live_controller: tuple = ()
    """(name, value) pairs for :class:`videossr.live.controller.ControllerConfig` (band, min_groups, ...)."""

    def __post_init__(self):
        if self.reward not in REWARD_MODES:
            raise UserError(f"unknown --reward {self.reward!r} (known: {', '.join(REWARD_MODES)})")
        if self.rollout not in ROLLOUTS:
            raise UserError(f"unknown --rollout {self.rollout!r} (known: {', '.join(ROLLOUTS)})")
        if self.filter_metric is not None and self.filter_metric not in FILTER_METRICS:
            raise UserError(f"unknown --filter-metric {self.filter_metric!r} (known: {', '.join(FILTER_METRICS)})")
        if self.gpus_per_node < 1 or self.nnodes < 1:
            raise UserError("--gpus-per-node and --nnodes must be >= 1")
        if self.ray_address is not None and not self.ray_address.startswith(("http://", "https://")):
            raise UserError(f"--ray-address must be the dashboard URL, e.g. http://HEAD:8265 (got {self.ray_address!r})")
        unknown = [name for name in self.loggers if name not in LOGGERS]
        if unknown or not self.loggers:
            raise UserError(f"unknown --logger {','.join(unknown)!r} (known: {','.join(LOGGERS)})")
        if self.save_freq < 1 or self.keep_checkpoints < 1:
            raise UserError("--save-freq and --keep-checkpoints must be >= 1")
        if self.resume_from is not None and not (_GLOBAL_STEP.match(Path(self.resume_from).name) and Path(self.resume_from).is_dir()):
            raise UserError(f"--resume-from must be an existing global_step_N checkpoint folder (got {self.resume_from})")

    @property
    def interpreter(self) -> str:
        """Absolute path of the Python that runs verl (a venv's python is kept as is, not resolved)."""
        return os.path.abspath(self.python or sys.executable)

    @property
    def checkpoints(self) -> Path:
        return self.out / runs.CHECKPOINTS

    @property
    def resume_mode(self) -> str:
        """verl's ``trainer.resume_mode``: ``disable`` for a new run, ``auto`` (latest in RUN/checkpoints) or ``resume_path``."""
        if self.resume_from is not None:
            return "resume_path"
        return "auto" if self.resume else "disable"

    def env_vars(self) -> dict[str, str]:
        """Env vars every Ray worker of the run gets (our job-level ones, and where verl's loggers write)."""
        env = dict(RUNTIME_ENV_VARS)
        if "tensorboard" in self.loggers:
            env["TENSORBOARD_DIR"] = str(self.out / TENSORBOARD_DIR)
        if "file" in self.loggers:  # verl rewrites its file at each start: one per launch
            env["VERL_FILE_LOGGER_PATH"] = str(self.out / f"metrics-launch{runs.launches(self.out) + 1}.jsonl")
        return env

    @property
    def group_filter_metric(self) -> str:
        """The reward key whose zero-variance groups are dropped: ``--filter-metric``, else the training reward."""
        return self.filter_metric or self.reward

    @property
    def rollout_tensor_parallel(self) -> int:
        return 2 if self.gpus_per_node % 2 == 0 else 1

    @property
    def max_model_len(self) -> int:
        """Prompt + response limits, as the run's overrides leave them (``-- data.max_prompt_length=N`` counts)."""
        lengths = {"data.max_prompt_length": self.hparams.max_prompt_tokens, "data.max_response_length": self.hparams.max_response_tokens}
        for extra in self.extra_overrides:
            key, _, value = extra.partition("=")
            if key.lstrip("+~") in lengths and value.strip().isdigit():
                lengths[key.lstrip("+~")] = int(value)
        return sum(lengths.values())

    @property
    def max_tokens_per_gpu(self) -> int:
        """Dynamic-batch token budget: room for three full-length sequences."""
        return 3 * (self.hparams.max_prompt_tokens + self.hparams.max_response_tokens)


@dataclass(frozen=True)
class VerlPlan:
    """Everything a run needs, before anything is written or started."""

    run: VerlRun
    overrides: tuple[str, ...]
    command: tuple[str, ...]
    runtime_env: dict | None
    notes: tuple[str, ...]
    start: str = runs.NEW
    """How the launch uses the run folder (:func:`videossr.train.runs.claim`)."""

    @property
    def train_sh(self) -> Path:
        return self.run.out / "train.sh"

    @property
    def runtime_env_path(self) -> Path:
        return self.run.out / RUNTIME_ENV_FILE

    @property
    def log_path(self) -> Path:
        return self.run.out / "train.log"

    @property
    def command_line(self) -> str:
        return shlex.join(self.command)


class HydraExpr(str):
    """A value already in Hydra's override grammar (a list or dict literal): written unquoted."""


def hydra_value(value) -> str:
    """A Python value as a Hydra override value (strings quoted when they hold special characters)."""
    if isinstance(value, HydraExpr):
        return str(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN_VALUE.match(text) and text:
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def override_key(override: str) -> str:
    """``+a.b=1`` -> ``a.b`` (Hydra's add/force/delete prefixes stripped)."""
    return override.split("=", 1)[0].lstrip("+~")


def _section(prefix: str, settings: dict) -> list[str]:
    return [f"{prefix}{key}={hydra_value(value)}" for key, value in settings.items()]


def _data_overrides(run: VerlRun) -> list[str]:
    hp, data = run.hparams, run.data
    val = data.val if data.val is not None else data.train
    settings = {
        "train_files": str(data.train),
        "val_files": str(val),
        "train_batch_size": hp.batch_prompts,
        "max_prompt_length": hp.max_prompt_tokens,
        "max_response_length": hp.max_response_tokens,
        # every row's visual tokens are bounded from the data (checked in plan()); verl's length filter
        # would decode every video up front and silently drop rows that fail to load
        "filter_overlong_prompts": False,
        "truncation": "error",
        "image_patch_size": IMAGE_PATCH_SIZE,
        "video_key": "videos",
    }
    if data.val is None:
        settings["val_max_samples"] = 1  # verl always builds a val set; keep it to one row, never run
    return _section("data.", settings) + (live_overrides(run) if run.live else [])


def live_overrides(run: VerlRun) -> list[str]:
    """Live difficulty: verl loads :class:`videossr.live.verl.LiveVerlDataset` itself (``data.custom_cls``).

    Items ask the controller actor for their rung, so the dataloader runs in the trainer process
    (``dataloader_num_workers=0``: a forked loader worker cannot call Ray). The build folder, the
    frames folder, the controller's state file and its knobs go under ``data.videossr_live``.
    """
    live = {"build": str(Path(run.data.train).parent), "rollouts": run.hparams.rollouts_per_prompt,
            "groups_per_step": run.hparams.batch_prompts, "state_path": str(run.out / LIVE_STATE_FILE)}
    live.update({"inline": True} if run.live_inline else {"frames_dir": str(run.out / LIVE_FRAMES_DIR)})
    settings = _section("data.", {"custom_cls.path": "pkg://videossr.live.verl", "custom_cls.name": "LiveVerlDataset", "dataloader_num_workers": 0})
    settings += _section("+data.videossr_live.", live)
    for key, value in run.live_controller:
        settings += _section("+data.videossr_live.controller.", {key: _list(map(str, value)) if isinstance(value, (list, tuple)) else value})
    return settings


LIVE_STATE_FILE, LIVE_FRAMES_DIR = "live-controller.json", "live-frames"


def _algorithm_overrides(run: VerlRun) -> list[str]:
    settings = {"adv_estimator": "grpo", "use_kl_in_reward": False, "filter_groups.enable": run.filter_zero_variance}
    if run.filter_zero_variance:
        settings["filter_groups.metric"] = run.group_filter_metric
    return _section("algorithm.", settings)


def _list(values) -> HydraExpr:
    return HydraExpr("[" + ",".join(values) + "]")


def _actor_rollout_ref_overrides(run: VerlRun) -> list[str]:
    hp, tokens = run.hparams, run.max_tokens_per_gpu
    save = SAVE_CONTENTS + (("hf_model",) if run.save_hf else ())
    out = _section("actor_rollout_ref.model.", {"path": run.model, "use_remove_padding": True, "enable_gradient_checkpointing": True})
    out += _section("actor_rollout_ref.actor.", {
        "strategy": "fsdp2",
        "checkpoint.save_contents": _list(save),
        "checkpoint.load_contents": _list(SAVE_CONTENTS),
        "optim.lr": hp.learning_rate,
        "ppo_mini_batch_size": hp.batch_prompts,
        "use_dynamic_bsz": True,
        "ppo_max_token_len_per_gpu": tokens,
        "use_kl_loss": True,
        "kl_loss_coef": hp.kl_loss_coef,
        "kl_loss_type": "low_var_kl",
        "entropy_coeff": hp.entropy_coef,
    })
    out += _section("actor_rollout_ref.rollout.", {
        "name": run.rollout,
        "n": hp.rollouts_per_prompt,
        "temperature": hp.temperature,
        "tensor_model_parallel_size": run.rollout_tensor_parallel,
        "gpu_memory_utilization": ROLLOUT_GPU_MEMORY,
        "log_prob_use_dynamic_bsz": True,
        "log_prob_max_token_len_per_gpu": tokens,
        # the KV cache is sized for this, not for the model's full context
        "max_model_len": run.max_model_len,
    })
    if run.rollout == "vllm":
        # jigsaw rows carry one video per clip; vLLM refuses prompts over its per-prompt limit
        out += _section("+actor_rollout_ref.rollout.engine_kwargs.vllm.", {"limit_mm_per_prompt": HydraExpr(f"{{video:{run.data.summary.max_videos_per_row}}}")})
    out += _section("actor_rollout_ref.ref.", {
        "log_prob_use_dynamic_bsz": True,
        "log_prob_max_token_len_per_gpu": tokens,
        "fsdp_config.param_offload": True,
    })
    return out


def _trainer_overrides(run: VerlRun) -> list[str]:
    has_val = run.data.val is not None
    settings = {
        "n_gpus_per_node": run.gpus_per_node,
        "nnodes": run.nnodes,
        "total_epochs": run.hparams.epochs,
        "project_name": "videossr",
        "experiment_name": run.experiment or run.out.name,
        "default_local_dir": str(run.checkpoints),
        "resume_mode": run.resume_mode,
        "logger": _list(run.loggers),
        "save_freq": run.save_freq,
        "max_actor_ckpt_to_keep": run.keep_checkpoints,
        "test_freq": TEST_FREQ_STEPS if has_val else -1,
        "val_before_train": has_val,
        "critic_warmup": 0,
    }
    if run.resume_from is not None:
        settings["resume_from_path"] = str(Path(run.resume_from).resolve())
    out = _section("reward.custom_reward_function.", {"path": REWARD_PLUGIN, "name": REWARD_FUNCTIONS[run.reward]}) + _section("trainer.", settings)
    # verl's ray.init runtime env starts every worker (TaskRunner, actors, rollout servers) with our interpreter;
    # it always names py_executable, so a submitted job must not (Ray refuses a driver runtime env that repeats
    # a field of the job's). Env vars: here for a local run, in the job's runtime env for a submitted one.
    out += _section("ray_kwargs.ray_init.runtime_env.", {"py_executable": run.interpreter})
    if run.ray_address is None:
        out += _section("+ray_kwargs.ray_init.runtime_env.env_vars.", {k: v for k, v in run.env_vars().items() if k not in RUNTIME_ENV_VARS})
    return out


def overrides(run: VerlRun) -> list[str]:
    """All Hydra overrides of the run, ours first, then ``extra_overrides`` (replacing ours by key)."""
    ours = _data_overrides(run) + _algorithm_overrides(run) + _actor_rollout_ref_overrides(run) + _trainer_overrides(run)
    replaced = {override_key(o) for o in run.extra_overrides}
    ours = [o for o in ours if override_key(o) not in replaced]
    return ours + list(run.extra_overrides)


def runtime_env(run: VerlRun) -> dict:
    """Ray runtime environment of a submitted job: env vars, and this videossr package for the reward workers
    (the interpreter goes to verl's own ``ray_init.runtime_env``, see :func:`overrides`)."""
    import videossr

    package = Path(videossr.__file__).resolve().parent
    return {"env_vars": run.env_vars(), "py_modules": [str(package)], "excludes": ["__pycache__", "*.pyc"]}


def ray_cli(run: VerlRun) -> str:
    """The ``ray`` command beside the interpreter (the same venv), else the one on PATH."""
    beside = Path(run.interpreter).with_name("ray")
    return str(beside) if beside.is_file() else "ray"


def _notes(run: VerlRun, start: str) -> list[str]:
    summary, hp = run.data.summary, run.hparams
    cost = estimate(summary.rows, hp, run.gpus_per_node * run.nnodes)
    notes = [cost.text()]
    if cost.steps == 0:
        notes.append(f"{summary.rows} rows are fewer than one batch of {hp.batch_prompts} prompts: verl would train 0 steps")
    if start == runs.RESUME and run.resume_from is None and not runs.checkpoint_entries(run.out):
        notes.append(f"--resume: no checkpoints in {run.checkpoints} yet, the run starts at step 0")
    if start == runs.OVERWRITE:
        notes.append(f"--overwrite: the checkpoints in {run.checkpoints} are deleted at launch")
    if run.data.val is None:
        notes.append("no held-out data: validation is off (build with --val-videos N to report held-out reward)")
    if summary.prompt_tokens_upper_bound > hp.max_prompt_tokens:
        notes.append(f"rows may need up to {summary.prompt_tokens_upper_bound} prompt tokens, over max_prompt_length "
                     f"{hp.max_prompt_tokens}: add data.max_prompt_length=... after --")
    n_gpus = run.gpus_per_node * run.nnodes
    if hp.batch_prompts * hp.rollouts_per_prompt % n_gpus:
        notes.append(f"batch of {hp.batch_prompts} x {hp.rollouts_per_prompt} responses does not split over {n_gpus} GPUs")
    return notes


def claim(run: VerlRun) -> str:
    """:func:`videossr.train.runs.claim` for this run's folder and flags."""
    return runs.claim(run.out, resume=run.resume or run.resume_from is not None, overwrite=run.overwrite)


def plan(run: VerlRun) -> VerlPlan:
    """The run's overrides, command (local, or ``ray job submit`` with ``--ray-address``) and runtime env.

    Reads the run folder only to refuse one whose checkpoints the run would silently continue or mix with.
    """
    start = claim(run)
    if run.live:  # the build, its recipe and plan must suit live difficulty: refuse now, not on the cluster
        from videossr.live.dataset import LiveDataset

        LiveDataset(Path(run.data.train).parent, inline=True)
    ours = overrides(run)
    command = (run.interpreter, "-m", ENTRY_MODULE, *ours)
    env = None
    if run.ray_address:
        env = runtime_env(run)
        runtime_env_file = str((run.out / RUNTIME_ENV_FILE).resolve())
        command = (ray_cli(run), "job", "submit", f"--address={run.ray_address}", f"--runtime-env={runtime_env_file}", "--no-wait", "--", *command)
    return VerlPlan(run, tuple(ours), command, env, tuple(_notes(run, start)), start)
