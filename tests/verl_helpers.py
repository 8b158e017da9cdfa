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
