"""``videossr train trl`` on Qwen3-VL video tokens (:mod:`videossr.train.trl_video`), CPU, tiny offline model.

A small real build of all three tasks from the real clips (24 frames of 128x128: jigsaw rows hold
6 videos), the tiny Qwen3-VL taught to answer in the tasks' formats (:mod:`trl_helpers`), real
TRL 1.16. What the tests pin: the trainer's model inputs are the eval backend's, byte for byte;
the per-token log-probs the loss uses depend on the video; each prompt's video is processed once
per generation; the CLI trains, checkpoints, refuses to clobber, resumes, and its model evaluates.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("datasets")
pytest.importorskip("qwen_vl_utils")
pytest.importorskip("trl")

import torch  # noqa: E402

from tiny_qwen import save_tiny_checkpoint  # noqa: E402
from trl_helpers import build_small, state_dict, teach_answers  # noqa: E402
from videossr.cli import main as cli_main  # noqa: E402
from videossr.errors import UserError  # noqa: E402
from videossr.train.trl_data import plain_rows, trl_video_dataset  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning")
GENERATIONS = 4


@pytest.fixture(scope="module")
def small(tmp_path_factory, clips_dir):
    return build_small(clips_dir, tmp_path_factory.mktemp("trl-video-data"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, small):
    path = save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-answering-video"))
    return teach_answers(path, plain_rows(small / "train.parquet")["ground_truth"], steps=100)  # answers after a video too


@pytest.fixture(scope="module")
def trainer(tmp_path_factory, small, checkpoint):
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import GRPOConfig

    from videossr.train.trl import reward_functions
    from videossr.train.trl_video import video_grpo_trainer

    funcs, weights = reward_functions("smooth")
    args = GRPOConfig(output_dir=str(tmp_path_factory.mktemp("trl-video-out")), use_cpu=True, bf16=False, report_to="none",
                      per_device_train_batch_size=GENERATIONS, num_generations=GENERATIONS, max_completion_length=6,
                      beta=0.001, reward_weights=weights, remove_unused_columns=False, save_strategy="no", seed=0)
    model = AutoModelForImageTextToText.from_pretrained(checkpoint, dtype=torch.float32)
    trainer = video_grpo_trainer(model=model, reward_funcs=funcs, args=args, train_dataset=trl_video_dataset(small / "train.parquet"),
                                 processing_class=AutoProcessor.from_pretrained(checkpoint))
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer's training loop, read by the loss
    return trainer


def _examples(trainer, index: int, copies: int = GENERATIONS) -> list[dict]:
    return [trainer.train_dataset[index] for _ in range(copies)]  # a group: the same prompt, once per rollout


def test_unsupported_trl_versions_are_refused_with_a_clear_error():
    from videossr.train.trl_video import check_trl_version

    check_trl_version("1.16.0")
    check_trl_version("1.16.3.dev0")
    with pytest.raises(UserError, match=r"supports TRL 1\.16\.x \(installed: 1\.17\.0\).*--video-as images"):
        check_trl_version("1.17.0")


def test_trainer_inputs_are_the_eval_backends_inputs(trainer, small, checkpoint):
    """Token ids, pixel_values_videos, video_grid_thw and mm_token_type_ids of every row equal what
    `videossr eval --backend transformers` builds for the same item of the same build."""
    from videossr.backends.transformers import TransformersBackend
    from videossr.evaluate.dataset_target import load_dataset

    backend = TransformersBackend(str(checkpoint), device="cpu", dtype="float32")
    eval_items = {item.id: item for item in load_dataset(small).items}
    rows = plain_rows(small / "train.parquet")
    assert {len(json.loads(v)) for v in rows["videos"]} == {1, 6}  # single-video rows and jigsaw's 6 clips
    for index, sample_id in enumerate(rows["sample_id"]):
        expected = backend._inputs([eval_items[sample_id].request])
        ids, images, fields = trainer._tokenize_prompts([trainer.train_dataset[index]["prompt"]])
        trainer._videos = None
        assert images is None
        assert ids == [expected["input_ids"][0].tolist()]
        assert torch.equal(fields["pixel_values_videos"], expected["pixel_values_videos"])
        assert torch.equal(fields["video_grid_thw"], expected["video_grid_thw"])
        assert fields["mm_token_type_ids"] == [expected["mm_token_type_ids"][0].tolist()]
        assert 2 in fields["mm_token_type_ids"][0]  # video tokens, not image tokens, are in the prompt
        assert 1 not in fields["mm_token_type_ids"][0]


def test_each_prompts_video_is_processed_once_per_generation(trainer):
    batch = _examples(trainer, 0) + _examples(trainer, 1)
    calls = trainer.video_inputs_calls
    output = trainer._generate_and_score_completions(batch)
    assert trainer.video_inputs_calls - calls == 2  # two prompts, 2 x 4 rollouts
    pixels = output["pixel_values_videos"]
    assert len(pixels) == 2 * GENERATIONS == output["completion_ids"].size(0)
    assert all(p is pixels[0] for p in pixels[:GENERATIONS]) and all(p is pixels[GENERATIONS] for p in pixels[GENERATIONS:])
    assert not torch.equal(pixels[0], pixels[GENERATIONS])
    assert "ref_per_token_logps" in output  # beta > 0: the reference pass ran (with the videos, see below)


def _loss_logps(trainer, batch) -> torch.Tensor:
    """The per-token log-probs ``compute_loss`` computes for ``batch`` (spied on, not recomputed)."""
    seen = []
    original = trainer._get_per_token_logps_and_entropies

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        seen.append(result[0].detach())
        return result

    trainer._get_per_token_logps_and_entropies = spy
    try:
        trainer.compute_loss(trainer.model, batch)
    finally:
        del trainer._get_per_token_logps_and_entropies
    assert len(seen) == 1
    return seen[0]


def test_loss_log_probs_see_the_video(trainer):
    """Blanking the video changes the per-token log-probs inside the loss; the same video reproduces them."""
    batch = trainer._generate_and_score_completions(_examples(trainer, 0))
    mask = batch["completion_mask"].bool()
    with torch.no_grad():
        logps = _loss_logps(trainer, batch)
        again = _loss_logps(trainer, batch)
        blank = {**batch, "pixel_values_videos": [torch.full_like(p, -1.0) for p in batch["pixel_values_videos"]]}
        blanked = _loss_logps(trainer, blank)
    assert torch.equal(logps[mask], again[mask])
    assert (logps[mask] - blanked[mask]).abs().max() > 1e-3
    # and the reference log-probs were computed with the real video: equal to the policy's before any update
    assert torch.allclose(batch["ref_per_token_logps"][mask], logps[mask], atol=1e-5)


@pytest.mark.slow
def test_video_route_trains_checkpoints_resumes_and_evaluates(small, checkpoint, tmp_path, capsys):
    """`videossr train trl` (default: video tokens): 2 steps with checkpoints; a rerun is refused; --resume adds
    step 3 only; the saved model goes through `videossr eval --backend transformers`."""
    out = tmp_path / "run"
    command = ["train", "trl", "--data", str(small), "--model", str(checkpoint), "--out", str(out), "--batch-prompts", "2",
               "--num-generations", str(GENERATIONS), "--max-completion-tokens", "8", "--save-steps", "1", "--no-progress"]
    assert cli_main(command + ["--max-steps", "2"]) == 0
    assert "trained 2 step(s)" in capsys.readouterr().out
    run = json.loads((out / "run.json").read_text())
    assert run["video_as"] == "video" and run["grpo_config"]["steps_per_generation"] == 1
    logged = [s for s in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if "loss" in s]
    assert [s["step"] for s in logged] == [1, 2]
    for name in ("videossr_smooth", "videossr_strict", "videossr_format"):
        assert all(f"rewards/{name}/mean" in s for s in logged)
    assert any(s["rewards/videossr_format/mean"] > 0 for s in logged)  # answers parse
    assert any(s["reward_std"] > 0 for s in logged)  # a GRPO signal
    assert any(s["grad_norm"] > 0 for s in logged)  # ... that reached the weights (weight decay alone moves them too)
    before, after = state_dict(checkpoint), state_dict(out / "model")
    assert any("language_model" in k and not torch.equal(before[k], after[k]) for k in before), "no weight changed"
    assert sorted(p.name for p in (out / "checkpoints").glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]

    assert cli_main(command + ["--max-steps", "3"]) == 2  # an earlier run's checkpoints: refused
    assert "--resume" in capsys.readouterr().err
    assert cli_main(command + ["--max-steps", "3", "--resume"]) == 0
    assert "trained 3 step(s)" in capsys.readouterr().out
    run = json.loads((out / "run.json").read_text())
    assert run["resumed_from"].endswith("checkpoint-2")
    logged = [s for s in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if "loss" in s]
    assert [s["step"] for s in logged] == [1, 2, 3]  # the history carried over, one step added
    assert sorted(p.name for p in (out / "checkpoints").glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]  # --save-limit 2

    evals = tmp_path / "eval"
    assert cli_main(["eval", str(small), "--backend", "transformers", "--model", str(out / "model"), "--out", str(evals),
                     "--limit", "2", "--max-tokens", "8", "--no-progress"]) == 0
    predictions = [json.loads(line) for line in (evals / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == 2 and all(not p.get("error") for p in predictions)
    assert (evals / "report.json").is_file()
