"""Test helper: a generated verl command through verl 0.9.1's real ``main_ppo`` entry point, stopped before training."""

from __future__ import annotations

import sys


def compose_with_verl(command, monkeypatch, tmp_path):
    """Run verl's ``main_ppo.main`` on the arguments of ``command``; the config that reached ``run_ppo``."""
    from hydra.core.global_hydra import GlobalHydra

    import verl.trainer.main_ppo as main_ppo

    args = list(command[list(command).index("verl.trainer.main_ppo") + 1:])
    seen = {}
    monkeypatch.setattr(main_ppo, "run_ppo", lambda config, task_runner_class: seen.setdefault("config", config))
    monkeypatch.setattr(sys, "argv", ["main_ppo.py", *args])
    monkeypatch.chdir(tmp_path)  # Hydra writes its outputs/ folder into the working directory
    GlobalHydra.instance().clear()
    main_ppo.main()
    assert "config" in seen, "main_ppo stopped before run_ppo"
    return seen["config"]


_SAVE_FSDP_CHECKPOINT = """
import os, sys
os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=sys.argv[3], RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")
import torch, torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from omegaconf import OmegaConf
from transformers import AutoModelForImageTextToText, AutoProcessor
from verl.utils.checkpoint.fsdp_checkpoint_manager import FSDPCheckpointManager
dist.init_process_group("gloo")
model = AutoModelForImageTextToText.from_pretrained(sys.argv[1])
fully_shard(model, mesh=init_device_mesh("cpu", (1,), mesh_dim_names=("fsdp",)))
manager = FSDPCheckpointManager(model, torch.optim.AdamW(model.parameters(), lr=1e-6),
                                processing_class=AutoProcessor.from_pretrained(sys.argv[1]),
                                checkpoint_config=OmegaConf.create({"save_contents": sys.argv[4].split(",")}))
manager.save_checkpoint(sys.argv[2], global_step=int(sys.argv[2].split("global_step_")[1].split("/")[0]))
dist.destroy_process_group()
"""


def save_fsdp_checkpoint(model_dir, actor_dir, save_contents=("model", "optimizer", "extra")) -> None:
    """An FSDP2 actor checkpoint of ``model_dir`` written by verl's own FSDPCheckpointManager (CPU, gloo,
    world size 1) with ``save_contents`` (``actor.checkpoint.save_contents``), as the trainer writes
    ``RUN/checkpoints/global_step_N/actor``. In a fresh process: it initialises torch.distributed."""
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run([sys.executable, "-c", _SAVE_FSDP_CHECKPOINT, str(model_dir), str(actor_dir), str(port), ",".join(save_contents)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
