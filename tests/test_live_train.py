"""`--live` on both training routes: the verl command through verl's own config path, and TRL for real on CPU."""

from __future__ import annotations

import json
import shlex

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("verl")

from tiny_qwen import save_tiny_checkpoint  # noqa: E402
from videossr.cli import main as cli_main  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def small(tmp_path_factory, clips_dir):
    from trl_helpers import build_small

    return build_small(clips_dir, tmp_path_factory.mktemp("live-train-data"))


def test_verl_live_dry_run_passes_verls_config_path_and_loads_our_dataset_class(small, tmp_path, capsys, monkeypatch):
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import get_dataset_class

    from verl_helpers import compose_with_verl
    from videossr.train.verl_check import check_lengths, typed_configs

    model = save_tiny_checkpoint(tmp_path / "tiny")
    code = cli_main(["train", "verl", "--data", str(small), "--model", str(model), "--out", str(tmp_path / "run"), "--dry-run",
                     "--live", "--live-band", "0.3,0.8", "--live-min-groups", "8"])
    assert code == 0
    command = shlex.split(capsys.readouterr().out.strip().splitlines()[-1])
    overrides = {o.split("=", 1)[0]: o.split("=", 1)[1] for o in command if "=" in o}
    assert overrides["data.custom_cls.path"] == "pkg://videossr.live.verl" and overrides["data.custom_cls.name"] == "LiveVerlDataset"
    assert overrides["data.dataloader_num_workers"] == "0"
    assert overrides["+data.videossr_live.build"] == str(small.resolve())
    assert overrides["+data.videossr_live.rollouts"] == "8" and overrides["+data.videossr_live.groups_per_step"] == "64"
    assert overrides["+data.videossr_live.controller.band"] == "[0.3,0.8]" and overrides["+data.videossr_live.controller.min_groups"] == "8"
    config = compose_with_verl(command, monkeypatch, tmp_path)  # verl's main_ppo composition and validate_config
    check_lengths(config, typed_configs(config))
    assert get_dataset_class(config.data).__name__ == "LiveVerlDataset"
    live = OmegaConf.to_container(config.data.videossr_live)
    assert live["state_path"] == str((tmp_path / "run" / "live-controller.json").resolve()) and live["controller"]["band"] == [0.3, 0.8]


def test_live_refuses_a_recipe_off_the_default_rungs_and_bad_knobs(tmp_path, capsys, built_all_tasks):
    model = save_tiny_checkpoint(tmp_path / "tiny")
    base = ["train", "verl", "--data", str(built_all_tasks[0]), "--model", str(model), "--out", str(tmp_path / "run"), "--dry-run"]
    assert cli_main(base + ["--live"]) == 2
    assert "counting-hard" in capsys.readouterr().err
    assert cli_main(base + ["--live", "--live-band", "0.9,0.1"]) == 2
    assert "band" in capsys.readouterr().err
    assert cli_main(base + ["--live-min-groups", "4"]) == 2
    assert "need --live" in capsys.readouterr().err


@pytest.mark.slow
def test_trl_live_trains_the_tiny_model_and_logs_the_controller(small, tmp_path, capsys):
    pytest.importorskip("trl")
    pytest.importorskip("qwen_vl_utils")
    from trl_helpers import teach_answers
    from videossr.train.trl_data import plain_rows

    model = teach_answers(save_tiny_checkpoint(tmp_path / "tiny"), plain_rows(small / "train.parquet")["ground_truth"], steps=60)
    out = tmp_path / "run"
    assert cli_main(["train", "trl", "--data", str(small), "--model", str(model), "--out", str(out), "--batch-prompts", "2",
                     "--num-generations", "2", "--max-completion-tokens", "8", "--max-steps", "3", "--save-steps", "0",
                     "--no-progress", "--live", "--live-min-groups", "1"]) == 0
    printed = capsys.readouterr().out
    assert "trained 3 step(s)" in printed
    state = json.loads((out / "live-controller.json").read_text())
    decisions = state["controller"]["decisions"]
    stale = sum(t["stale"] for t in state["controller"]["tasks"].values())
    # 3 steps x 2 prompts: with min_groups 1 every group decides, except one drawn at a rung the controller has since left
    assert state["completed"] == 6 and len(decisions) + stale == 6 and decisions
    assert [d["step"] for d in decisions] == sorted(d["step"] for d in decisions)
    moves = [d for d in decisions if d["from_rung"] != d["to_rung"]]
    assert len([line for line in printed.splitlines() if line.startswith("live: step ")]) == len(moves)
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [s for s in logged if "loss" in s]
    assert len(steps) == 3 and all("live/zero_variance_share" in s and any(k.startswith("live/rung/") for k in s) for s in steps)
    run = json.loads((out / "run.json").read_text())
    assert run["live"]["rungs"] == {t: v["rung"] for t, v in state["controller"]["tasks"].items()} and run["live"]["ms_per_item"] > 0
    assert (out / "model" / "config.json").is_file()
