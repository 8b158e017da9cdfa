"""Run folders, the interpreter of ``train.sh``, the cost estimate and ``videossr train merge`` (verl route)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from videossr.cli import main as cli_main
from videossr.errors import UserError
from videossr.train import runs
from videossr.train.cost import estimate
from videossr.train.hparams import PAPER, GRPOHyperparameters


@pytest.fixture(scope="module")
def built(tmp_path_factory, clips_dir):
    from videossr.build import build
    from videossr.recipe import load_recipe

    out = tmp_path_factory.mktemp("runs-data")
    build(clips_dir, out, load_recipe("videossr30k"), size=6, workers=1, progress=False)
    return out


def _dry_run(built, capsys, *args) -> tuple[int, dict, str]:
    code = cli_main(["train", "verl", "--data", str(built), "--model", "/m", "--dry-run", *args])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    keyed = dict(w.lstrip("+").split("=", 1) for w in shlex.split(lines[-1]) if "=" in w) if code == 0 else {}
    return code, keyed, captured.err


def _make_checkpoint(run: Path, step: int = 50) -> Path:
    actor = run / "checkpoints" / f"global_step_{step}" / "actor"
    actor.mkdir(parents=True)
    (run / "checkpoints" / "latest_checkpointed_iteration.txt").write_text(str(step))
    return actor.parent


# ----------------------------------------------------------------------------- run folders


def test_default_run_folder_is_new_per_run(built, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, keyed, _ = _dry_run(built, capsys)
    assert code == 0
    folder = Path(keyed["trainer.default_local_dir"]).parent
    assert folder.parent == tmp_path / "runs" and re.fullmatch(r"verl-smooth-\d{8}-\d{6}", folder.name), folder
    assert keyed["trainer.experiment_name"] == folder.name

    now = datetime(2026, 12, 1, 21, 30, tzinfo=timezone.utc)
    first = runs.default_out("verl", "strict", tmp_path / "r", now=now)
    assert first == tmp_path / "r" / "verl-strict-20261201-213000"
    first.mkdir(parents=True)
    assert runs.default_out("verl", "strict", tmp_path / "r", now=now).name == "verl-strict-20261201-213000-2"


def test_folder_with_checkpoints_needs_resume_or_overwrite(built, tmp_path, capsys):
    run = tmp_path / "run"
    step = _make_checkpoint(run)
    code, _, err = _dry_run(built, capsys, "--out", str(run))
    assert code == 2 and "already holds checkpoints (global_step_50, latest_checkpointed_iteration.txt)" in err
    assert "--resume" in err and "--overwrite" in err

    code, keyed, _ = _dry_run(built, capsys, "--out", str(run), "--resume")
    assert code == 0 and keyed["trainer.resume_mode"] == "auto"
    code, keyed, _ = _dry_run(built, capsys, "--out", str(run), "--overwrite")
    assert code == 0 and keyed["trainer.resume_mode"] == "disable"
    code, keyed, _ = _dry_run(built, capsys, "--out", str(run), "--resume-from", str(step))
    assert code == 0 and keyed["trainer.resume_mode"] == "resume_path" and keyed["trainer.resume_from_path"] == str(step)

    assert _dry_run(built, capsys, "--resume")[0] == 2  # --resume needs --out
    assert _dry_run(built, capsys, "--out", str(run), "--resume-from", str(run / "checkpoints"))[0] == 2  # not a global_step_N
    code, keyed, _ = _dry_run(built, capsys, "--out", str(tmp_path / "fresh"))
    assert code == 0 and keyed["trainer.resume_mode"] == "disable"


def test_record_launch_keeps_every_launch(tmp_path):
    t1, t2 = datetime(2026, 12, 1, 10, tzinfo=timezone.utc), datetime(2026, 12, 2, 10, tzinfo=timezone.utc)
    runs.record_launch(tmp_path, {"model": "a", "resume_mode": "disable"}, "fmt-v1", now=t1)
    runs.record_launch(tmp_path, {"model": "a", "resume_mode": "auto"}, "fmt-v1", now=t2)
    record = json.loads((tmp_path / "run.json").read_text())
    assert [(r["launched_at"], r["resume_mode"]) for r in record["launches"]] == [
        ("2026-12-01T10:00:00+00:00", "disable"), ("2026-12-02T10:00:00+00:00", "auto")]
    assert record["resume_mode"] == "auto" and record["format"] == "fmt-v1"
    with pytest.raises(UserError, match="is a 'fmt-v1' run"):
        runs.record_launch(tmp_path, {}, "other-v1")
    # a record from before launches were kept becomes the first launch
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "run.json").write_text(json.dumps({"format": "fmt-v1", "model": "old"}))
    runs.record_launch(tmp_path / "old", {"model": "new"}, "fmt-v1", now=t1)
    assert [r["model"] for r in json.loads((tmp_path / "old" / "run.json").read_text())["launches"]] == ["old", "new"]


def _recording_python(tmp_path) -> Path:
    """An executable that records its arguments (stands in for the verl venv's python: no GPU to train on)."""
    script = tmp_path / "venv" / "bin" / "python"
    script.parent.mkdir(parents=True)
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {shlex.quote(str(tmp_path / "calls.txt"))}\n')
    script.chmod(0o755)
    return script


def test_launch_resume_overwrite_and_history(built, tmp_path):
    from videossr.train.data import resolve
    from videossr.train.verl import VerlRun, plan
    from videossr.train.verl_launch import launch

    python, run = _recording_python(tmp_path), tmp_path / "run"
    assert launch(plan(VerlRun(resolve(built), "/m", run, python=str(python)))) == 0
    _make_checkpoint(run, 50)
    with pytest.raises(UserError, match="already holds checkpoints"):
        plan(VerlRun(resolve(built), "/m", run, python=str(python)))
    assert launch(plan(VerlRun(resolve(built), "/m", run, python=str(python), resume=True))) == 0
    assert (run / "checkpoints" / "global_step_50").is_dir()  # resuming keeps them
    assert launch(plan(VerlRun(resolve(built), "/m", run, python=str(python), overwrite=True))) == 0
    assert not (run / "checkpoints").exists()  # overwriting deleted them before the run started

    calls = [line.split() for line in (tmp_path / "calls.txt").read_text().splitlines() if "verl.trainer.main_ppo" in line]
    assert [c[:2] for c in calls] == [["-m", "verl.trainer.main_ppo"]] * 3  # train.sh ran the given interpreter
    assert [next(w for w in c if w.startswith("trainer.resume_mode=")) for c in calls] == [
        "trainer.resume_mode=disable", "trainer.resume_mode=auto", "trainer.resume_mode=disable"]
    # the file logger gets one file per launch (verl opens it for writing at start)
    assert plan(VerlRun(resolve(built), "/m", run, loggers=("file",))).run.env_vars()["VERL_FILE_LOGGER_PATH"] == str(run / "metrics-launch4.jsonl")
    record = json.loads((run / "run.json").read_text())
    assert [(r["start"], r["resume_mode"]) for r in record["launches"]] == [("new", "disable"), ("resume", "auto"), ("overwrite", "disable")]
    assert record["python"] == str(python)


@pytest.mark.skipif(not os.access("/usr/bin/python3", os.X_OK), reason="needs a python3 on PATH other than this interpreter")
def test_train_sh_runs_verl_with_this_interpreter_not_the_python3_on_path(built, tmp_path):
    """train.sh written by a videossr whose venv is not activated: PATH's python3 (without verl) must not run it."""
    pytest.importorskip("verl")
    from videossr.train.data import resolve
    from videossr.train.verl import VerlRun, plan
    from videossr.train.verl_launch import write

    p = plan(VerlRun(resolve(built), "/m", tmp_path / "run"))
    write(p)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    # Hydra's --help composes verl's config with every override and exits before training
    done = subprocess.run(["/bin/bash", str(p.train_sh), "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    assert "main_ppo is powered by Hydra" in done.stdout


# ----------------------------------------------------------------------------- cost estimate


def test_estimate_scales_the_papers_figure():
    # the paper's own run: 30,000 prompts, batch 64 -> 468 full steps (verl drops the last partial batch)
    paper = estimate(30_000, PAPER, gpus=8)
    assert (paper.steps, paper.prompts, paper.responses) == (468, 29_952, 239_616)
    assert paper.gpu_hours == pytest.approx(239_616 * 128 / 240_000)  # 16 h x 8 GPUs for 240,000 responses
    assert paper.hours == pytest.approx(15.97, abs=0.01)
    # 4 nodes: same GPU-hours, a quarter of the wall clock (the stated assumption)
    four = estimate(30_000, PAPER, gpus=32)
    assert four.gpu_hours == paper.gpu_hours and four.hours == pytest.approx(paper.hours / 4)
    # half the data, 2 epochs, 16 rollouts: 234 x 2 steps, twice the responses per prompt
    other = estimate(15_000, GRPOHyperparameters(epochs=2, rollouts_per_prompt=16), gpus=8)
    assert (other.steps, other.responses) == (468, 468 * 64 * 16)
    assert other.gpu_hours == pytest.approx(2 * paper.gpu_hours)
    assert estimate(63, PAPER, gpus=8).steps == 0


def test_dry_run_prints_the_estimate(built, tmp_path, capsys):
    code = cli_main(["train", "verl", "--data", str(built), "--model", "/m", "--out", str(tmp_path / "r"), "--nnodes", "4", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("note: estimate: "))
    assert line.startswith("note: estimate: 0 steps, 0 prompts, 0 responses;") and "on 32 GPUs" in line
    assert "linear in responses, inverse in GPUs" in line
    rows = len(__import__("pyarrow.parquet").parquet.read_table(built / "train.parquet"))
    assert f"note: {rows} rows are fewer than one batch of 64 prompts: verl would train 0 steps" in out  # the tiny build


# ----------------------------------------------------------------------------- merge


@pytest.mark.slow
def test_merge_and_save_hf_give_folders_that_evaluate(built, tmp_path, capsys):
    """verl's own FSDP checkpoint writer (CPU, world size 1) with the save contents `--save-hf` puts in the
    command; then `videossr train merge`; both Hugging Face folders hold the weights and `videossr eval` loads them."""
    pytest.importorskip("verl")
    torch = pytest.importorskip("torch")
    from eval_helpers import small_bench
    from safetensors.torch import load_file
    from tiny_qwen import build_tiny_model, save_tiny_checkpoint
    from verl_helpers import save_fsdp_checkpoint

    model_dir = save_tiny_checkpoint(tmp_path / "tiny")
    run = tmp_path / "run"
    code, keyed, _ = _dry_run(built, capsys, "--out", str(run), "--save-hf")
    save_contents = keyed["actor_rollout_ref.actor.checkpoint.save_contents"].strip("[]").split(",")
    assert code == 0 and "hf_model" in save_contents
    save_fsdp_checkpoint(model_dir, run / "checkpoints" / "global_step_4" / "actor", save_contents)
    shutil.copytree(run / "checkpoints" / "global_step_4", run / "checkpoints" / "global_step_2")  # an older one: not chosen
    (run / "checkpoints" / "latest_checkpointed_iteration.txt").write_text("4")

    assert cli_main(["train", "merge", str(run)]) == 0
    merged = run / "hf" / "global_step_4"
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(merged)
    assert not list((run / "hf").glob(".tmp-*"))
    assert cli_main(["train", "merge", str(run), "--step", "7"]) == 2

    reference = build_tiny_model().state_dict()
    for hf in (merged, run / "checkpoints" / "global_step_4" / "actor" / "huggingface"):
        weights = load_file(hf / "model.safetensors")
        assert set(weights) <= set(reference) and len(weights) >= len(reference) - 1, hf  # a tied head may be dropped
        assert all(torch.equal(weights[k].float(), reference[k].to(weights[k].dtype).float()) for k in weights), hf
        out = tmp_path / f"eval-{hf.name}"
        args = ["eval", str(small_bench()), "--backend", "transformers", "--model", str(hf), "--device", "cpu", "--dtype", "float32",
                "--max-pixels", str(128 * 128), "--max-tokens", "4", "--out", str(out), "--no-progress", "--limit", "1"]
        assert cli_main(args) == 0, hf
        rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
        assert len(rows) == 1 and rows[0]["error"] is None, hf
