"""``videossr train merge RUN``: a verl run's FSDP checkpoint as a Hugging Face folder ``videossr eval`` loads.

verl saves sharded actor weights (``RUN/checkpoints/global_step_N/actor/model_world_size_W_rank_R.pt``,
plus ``huggingface/`` with the config, tokenizer and processor). verl's own merger,
``python -m verl.model_merger merge --backend fsdp --local_dir .../actor --target_dir DIR``,
joins the shards into ``model.safetensors`` (bf16) with the processor beside it. This module picks
the checkpoint (the latest, or ``step``), runs the merger into a temporary sibling and renames it
to ``RUN/hf/global_step_N`` when it succeeded, so a half-written folder is never left under that name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from videossr.errors import UserError
from videossr.train.runs import CHECKPOINTS

LATEST_FILE = "latest_checkpointed_iteration.txt"
"""verl writes the last completed step here after each save."""
HF_DIR = "hf"
_STEP = re.compile(r"^global_step_(\d+)$")


@dataclass(frozen=True)
class MergeJob:
    checkpoint: Path
    """``RUN/checkpoints/global_step_N``."""
    target: Path

    @property
    def actor(self) -> Path:
        return self.checkpoint / "actor"

    def command(self, python: str | None = None) -> list[str]:
        return [python or sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp",
                "--local_dir", str(self.actor), "--target_dir", str(_tmp(self.target))]


def _tmp(target: Path) -> Path:
    return target.with_name(f".tmp-{target.name}")


def _steps(checkpoints: Path) -> dict[int, Path]:
    if not checkpoints.is_dir():
        return {}
    return {int(m.group(1)): p for p in checkpoints.iterdir() if (m := _STEP.match(p.name)) and p.is_dir()}


def find(run: str | os.PathLike, step: int | None = None, target: str | os.PathLike | None = None) -> MergeJob:
    """The checkpoint of ``run`` to merge: ``step``, else the one verl marked latest, else the highest step."""
    run = Path(run).expanduser().resolve()
    checkpoints = run / CHECKPOINTS
    steps = _steps(checkpoints)
    if not steps:
        raise UserError(f"no global_step_N checkpoints in {checkpoints} (is {run} a `videossr train verl` run folder?)")
    if step is None:
        latest = checkpoints / LATEST_FILE
        marked = latest.read_text().strip() if latest.is_file() else ""
        step = int(marked) if marked.isdigit() and int(marked) in steps else max(steps)
    if step not in steps:
        raise UserError(f"no checkpoint global_step_{step} in {checkpoints} (have: {', '.join(map(str, sorted(steps)))})")
    checkpoint = steps[step]
    if not (checkpoint / "actor" / "fsdp_config.json").is_file():
        raise UserError(f"{checkpoint / 'actor'} is not a complete FSDP checkpoint (no fsdp_config.json)")
    return MergeJob(checkpoint, Path(target).expanduser().resolve() if target else run / HF_DIR / checkpoint.name)


def merge(job: MergeJob, python: str | None = None) -> Path:
    """Run verl's merger for ``job``; the Hugging Face folder (already merged: returned as is)."""
    if (job.target / "config.json").is_file():
        return job.target
    if job.target.exists():
        raise UserError(f"{job.target} exists and is not a merged model: pass another --target")
    tmp = _tmp(job.target)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(job.command(python))
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(f"verl's model merger failed (exit {done.returncode}) on {job.actor}; its output is above")
    os.replace(tmp, job.target)
    return job.target
