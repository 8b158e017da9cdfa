"""benchmarks/gpu_check.sh: its --tiny mode runs end to end on CPU and writes every figure, so the
GPU run (Qwen3-VL-8B-sized weights) is known to get through the same code when a GPU is lent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("qwen_vl_utils")

ROOT = Path(__file__).resolve().parent.parent


def test_8b_config_has_qwen3_vl_8b_dimensions():
    """8.77 B parameters (Qwen3-VL-8B-Instruct's published size), counted on the meta device (no memory)."""
    import torch
    from transformers import Qwen3VLForConditionalGeneration

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gpu_check import qwen3_vl_8b_config
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    config = qwen3_vl_8b_config()
    with torch.device("meta"):
        model = Qwen3VLForConditionalGeneration(config)
    assert 8.72e9 < sum(p.numel() for p in model.parameters()) < 8.82e9
    assert config.video_token_id == 6 and config.image_token_id == 5  # the tiny tokenizer's ids (tests/tiny_qwen.py)


@pytest.mark.slow
def test_tiny_gpu_check_writes_its_figures(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    out = tmp_path / "figures"
    proc = subprocess.run([str(ROOT / "benchmarks" / "gpu_check.sh"), "--tiny", str(out), "--steps", "1", "--items", "3",
                           "--batch-size", "2"], env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads((out / "gpu_check.json").read_text())
    assert figures["tiny"] is True and figures["environment"]["trl"].startswith("1.16")
    for phase in ("data", "model", "train", "eval"):
        assert "error" not in figures[phase] and figures[phase]["phase_s"] > 0
    train = figures["train"]
    assert train["steps"] == 1 and len(train["step_time_s"]) == 1 and train["step_time_s"][0] > 0
    assert train["model_dir_written"] and set(train["mean_rewards"]) == {"videossr_smooth", "videossr_strict", "videossr_format"}
    evaluation = figures["eval"]
    assert evaluation["items"] == 3 and evaluation["batched"]["items_per_s"] > 0 and evaluation["one_at_a_time"]["items_per_s"] > 0
    assert not evaluation["batched"]["errors"] and not evaluation["one_at_a_time"]["errors"]
    assert evaluation["identical_greedy_outputs"].endswith("/3") and evaluation["speedup_batched"] > 0
    assert not [p for p in Path(figures["data"]["path"]).parents if p.name.startswith("videossr-gpu-check-") and p.exists()]  # scratch removed
