"""``videossr train verl``: the paper's GRPO run as one ``verl.trainer.main_ppo`` command (verl 0.9.1).

:func:`plan` turns a :class:`VerlRun` into Hydra overrides (the paper's hyperparameters, our
reward plug-in, the keys verl 0.9 requires, Qwen3-VL settings and limits read from the data),
the command, a runnable ``train.sh`` and, for a Ray cluster, a runtime-environment file and the
``ray job submit`` command. :func:`write` puts them in the run folder; :func:`launch` runs them.

Run folder (``--out``)::

    RUN/train.sh            runnable: bash RUN/train.sh [more Hydra overrides]
    RUN/command.txt         the exact command, one line
    RUN/run.json            settings, data summary, overrides (format "videossr-verl-run-v1")
    RUN/runtime_env.yaml    only with --ray-address: env vars and our code for every Ray worker
    RUN/train.log           console log of a local run (train.sh tees into it)
    RUN/checkpoints/        trainer.default_local_dir: global_step_N/actor (FSDP shards)
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from videossr.errors import UserError
from videossr.train.data import TrainData
from videossr.train.hparams import FILTER_METRICS, PAPER, REWARD_MODES, GRPOHyperparameters

RUN_FORMAT = "videossr-verl-run-v1"
RUNTIME_ENV_FILE = "runtime_env.yaml"
ENTRY_POINT = ("python3", "-m", "verl.trainer.main_ppo")
ROLLOUTS = ("vllm", "sglang")
REWARD_PLUGIN = "pkg://videossr.rewards.verl"
REWARD_FUNCTIONS = {"smooth": "compute_score", "strict": "compute_score_strict"}
IMAGE_PATCH_SIZE = 16
"""Qwen3-VL's vision patch (verl's default, 14, is Qwen2.5-VL's)."""

ROLLOUT_GPU_MEMORY = 0.6
SAVE_FREQ_STEPS = 50
TEST_FREQ_STEPS = 10
RUNTIME_ENV_VARS = {
    "TOKENIZERS_PARALLELISM": "true",
    "NCCL_DEBUG": "WARN",
    "VLLM_LOGGING_LEVEL": "WARN",
    "PYTHONUNBUFFERED": "1",
}
"""Job-level env vars; verl's own defaults for these are dropped when the driver already has them,
so they never conflict with the runtime env verl's ``ray.init`` adds."""

INSTALL_HINT = 'verl is not installed here: pip install "verl[vllm]==0.9.1" (GPU machines; see README, Train)'
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

    @property
    def group_filter_metric(self) -> str:
        """The reward key whose zero-variance groups are dropped: ``--filter-metric``, else the training reward."""
        return self.filter_metric or self.reward

    @property
    def rollout_tensor_parallel(self) -> int:
        return 2 if self.gpus_per_node % 2 == 0 else 1

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
    return _section("data.", settings)


def _algorithm_overrides(run: VerlRun) -> list[str]:
    settings = {"adv_estimator": "grpo", "use_kl_in_reward": False, "filter_groups.enable": run.filter_zero_variance}
    if run.filter_zero_variance:
        settings["filter_groups.metric"] = run.group_filter_metric
    return _section("algorithm.", settings)


def _actor_rollout_ref_overrides(run: VerlRun) -> list[str]:
    hp, tokens = run.hparams, run.max_tokens_per_gpu
    out = _section("actor_rollout_ref.model.", {"path": run.model, "use_remove_padding": True, "enable_gradient_checkpointing": True})
    out += _section("actor_rollout_ref.actor.", {
        "strategy": "fsdp2",
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
    return _section("reward.custom_reward_function.", {"path": REWARD_PLUGIN, "name": REWARD_FUNCTIONS[run.reward]}) + _section("trainer.", {
        "n_gpus_per_node": run.gpus_per_node,
        "nnodes": run.nnodes,
        "total_epochs": run.hparams.epochs,
        "project_name": "videossr",
        "experiment_name": run.out.name,
        "default_local_dir": str(run.out / "checkpoints"),
        "logger": HydraExpr("[console]"),
        "save_freq": SAVE_FREQ_STEPS,
        "test_freq": TEST_FREQ_STEPS if has_val else -1,
        "val_before_train": has_val,
        "critic_warmup": 0,
    })


def overrides(run: VerlRun) -> list[str]:
    """All Hydra overrides of the run, ours first, then ``extra_overrides`` (replacing ours by key)."""
    ours = _data_overrides(run) + _algorithm_overrides(run) + _actor_rollout_ref_overrides(run) + _trainer_overrides(run)
    replaced = {override_key(o) for o in run.extra_overrides}
    ours = [o for o in ours if override_key(o) not in replaced]
    return ours + list(run.extra_overrides)


def runtime_env() -> dict:
    """Ray runtime environment of a submitted job: env vars, and this videossr package for the reward workers."""
    import videossr

    package = Path(videossr.__file__).resolve().parent
    return {"env_vars": dict(RUNTIME_ENV_VARS), "py_modules": [str(package)], "excludes": ["__pycache__", "*.pyc"]}


def _notes(run: VerlRun) -> list[str]:
    summary, hp = run.data.summary, run.hparams
    notes = []
    if run.data.val is None:
        notes.append("no held-out data: validation is off (build with --val-videos N to report held-out reward)")
    if summary.prompt_tokens_upper_bound > hp.max_prompt_tokens:
        notes.append(f"rows may need up to {summary.prompt_tokens_upper_bound} prompt tokens, over max_prompt_length "
                     f"{hp.max_prompt_tokens}: add data.max_prompt_length=... after --")
    n_gpus = run.gpus_per_node * run.nnodes
    if hp.batch_prompts * hp.rollouts_per_prompt % n_gpus:
        notes.append(f"batch of {hp.batch_prompts} x {hp.rollouts_per_prompt} responses does not split over {n_gpus} GPUs")
    return notes


def plan(run: VerlRun) -> VerlPlan:
    """The run's overrides, command (local, or ``ray job submit`` with ``--ray-address``) and runtime env."""
    ours = overrides(run)
    command = (*ENTRY_POINT, *ours)
    env = None
    if run.ray_address:
        env = runtime_env()
        runtime_env_file = str((run.out / RUNTIME_ENV_FILE).resolve())
        command = ("ray", "job", "submit", f"--address={run.ray_address}", f"--runtime-env={runtime_env_file}", "--no-wait", "--", *command)
    return VerlPlan(run, tuple(ours), command, env, tuple(_notes(run)))


def train_sh_text(p: VerlPlan) -> str:
    """A bash script that runs the command; extra arguments are appended as more Hydra overrides."""
    split = p.command.index(ENTRY_POINT[-1]) + 1
    head, args = p.command[:split], p.command[split:]
    lines = [shlex.join(head) + " \\"] + [f"    {shlex.quote(a)} \\" for a in args] + ['    "$@"']
    tail = f" 2>&1 | tee -a {shlex.quote(str(p.log_path.resolve()))}" if p.runtime_env is None else ""
    return (
        "#!/usr/bin/env bash\n"
        f"# written by `videossr train verl`; rerun with: bash {shlex.quote(str(p.train_sh.resolve()))} [more.hydra=overrides]\n"
        "set -euo pipefail\n" + "\n".join(lines) + tail + "\n"
    )


def run_record(p: VerlPlan) -> dict:
    run = p.run
    return {
        "format": RUN_FORMAT,
        "model": run.model,
        "train": str(run.data.train),
        "val": str(run.data.val) if run.data.val else None,
        "data_summary": run.data.summary.to_dict(),
        "reward": run.reward,
        "filter_zero_variance": run.filter_zero_variance,
        "filter_metric": run.group_filter_metric if run.filter_zero_variance else None,
        "rollout": run.rollout,
        "gpus_per_node": run.gpus_per_node,
        "nnodes": run.nnodes,
        "ray_address": run.ray_address,
        "hparams": asdict(run.hparams),
        "overrides": list(p.overrides),
        "command": list(p.command),
        "notes": list(p.notes),
    }


def write(p: VerlPlan) -> list[Path]:
    """Write ``train.sh``, ``command.txt``, ``run.json`` (and ``runtime_env.yaml``) into the run folder."""
    import yaml

    from videossr.atomic import write_json, write_text

    out = p.run.out
    out.mkdir(parents=True, exist_ok=True)
    written = [write_text(p.train_sh, train_sh_text(p)), write_text(out / "command.txt", p.command_line + "\n"),
               write_json(out / "run.json", run_record(p))]
    p.train_sh.chmod(0o755)
    if p.runtime_env is not None:
        written.append(write_text(p.runtime_env_path, yaml.safe_dump(p.runtime_env, sort_keys=True)))
    return written


def launch(p: VerlPlan) -> int:
    """Write the run folder, then run ``train.sh`` (a local run, or the ``ray job submit``); its exit code."""
    if p.runtime_env is None and importlib.util.find_spec("verl") is None:
        raise UserError(INSTALL_HINT)
    if p.runtime_env is not None and shutil.which("ray") is None:
        raise UserError('the `ray` command is not on PATH: pip install "ray[default]" (the Jobs CLI)')
    write(p)
    return subprocess.run(["bash", str(p.train_sh)]).returncode
