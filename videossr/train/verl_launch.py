"""The verl run folder on disk, and the launch: ``train.sh``, ``command.txt``, ``run.json``, ``runtime_env.yaml``.

:func:`write` puts a :class:`~videossr.train.verl.VerlPlan` into its run folder (``run.json``
keeps every launch, see :mod:`videossr.train.runs`); :func:`launch` claims the folder again,
clears old checkpoints of an overwriting run, writes, and runs ``train.sh``.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from videossr.errors import UserError
from videossr.train import runs
from videossr.train.cost import estimate
from videossr.train.verl import ENTRY_MODULE, INSTALL_HINT, RUN_FORMAT, VerlPlan, claim


def train_sh_text(p: VerlPlan) -> str:
    """A bash script that runs the command; extra arguments are appended as more Hydra overrides."""
    split = p.command.index(ENTRY_MODULE) + 1
    head, args = p.command[:split], p.command[split:]
    lines = [shlex.join(head) + " \\"] + [f"    {shlex.quote(a)} \\" for a in args] + ['    "$@"']
    tail = f" 2>&1 | tee -a {shlex.quote(str(p.log_path.resolve()))}" if p.runtime_env is None else ""
    return (
        "#!/usr/bin/env bash\n"
        f"# written by `videossr train verl` (trainer.resume_mode={p.run.resume_mode}); to continue after a stop:\n"
        f"#   bash {shlex.quote(str(p.train_sh.resolve()))} trainer.resume_mode=auto [more.hydra=overrides]\n"
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
        "python": run.interpreter,
        "start": p.start,
        "resume_mode": run.resume_mode,
        "loggers": list(run.loggers),
        "save_hf": run.save_hf,
        "hparams": asdict(run.hparams),
        "estimate": estimate(run.data.summary.rows, run.hparams, run.gpus_per_node * run.nnodes).to_dict(),
        "overrides": list(p.overrides),
        "command": list(p.command),
        "notes": list(p.notes),
    }


def write(p: VerlPlan) -> list[Path]:
    """Write ``train.sh``, ``command.txt`` (and ``runtime_env.yaml``) and append this launch to ``run.json``."""
    import yaml

    from videossr.atomic import write_text

    out = p.run.out
    out.mkdir(parents=True, exist_ok=True)
    written = [write_text(p.train_sh, train_sh_text(p)), write_text(out / "command.txt", p.command_line + "\n"),
               runs.record_launch(out, run_record(p), RUN_FORMAT)]
    p.train_sh.chmod(0o755)
    if p.runtime_env is not None:
        written.append(write_text(p.runtime_env_path, yaml.safe_dump(p.runtime_env, sort_keys=True)))
    return written


def _has_verl(python: str) -> bool:
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return importlib.util.find_spec("verl") is not None
    return subprocess.run([python, "-c", "import verl"], capture_output=True).returncode == 0


def launch(p: VerlPlan) -> int:
    """Write the run folder, then run ``train.sh`` (a local run, or the ``ray job submit``); its exit code.

    The folder is claimed again first (checkpoints may have appeared since :func:`plan`); an
    overwriting run deletes the old checkpoints right before it starts.
    """
    run = p.run
    if p.runtime_env is None and not _has_verl(run.interpreter):
        raise UserError(f"{run.interpreter}: {INSTALL_HINT} (or pass --python PATH of the verl venv)")
    if p.runtime_env is not None and shutil.which(p.command[0]) is None:
        raise UserError('the `ray` command is not found: pip install "ray[default]" (the Jobs CLI)')
    if claim(run) == runs.OVERWRITE:
        runs.clear_checkpoints(run.out)
    write(p)
    return subprocess.run(["bash", str(p.train_sh)]).returncode
