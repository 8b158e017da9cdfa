"""``videossr train trl``: the GRPOConfig it generates, and the frames-as-images route (``--video-as images``)
on the tiny offline Qwen3-VL, CPU only (video tokens: tests/test_train_trl_video.py).

The data is a real build of the paper's mix from the real clips; the tiny model is first taught
to answer in the tasks' formats (:func:`trl_helpers.teach_answers`). Nothing is faked.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("datasets")
trl = pytest.importorskip("trl")

import torch  # noqa: E402

from tiny_qwen import save_tiny_checkpoint  # noqa: E402
from trl_helpers import state_dict as _state  # noqa: E402
from trl_helpers import teach_answers  # noqa: E402
from videossr.errors import UserError  # noqa: E402
from videossr.cli import main as cli_main  # noqa: E402
from videossr.train.data import resolve  # noqa: E402
from videossr.train.trl import TrlRun, grpo_settings, reward_functions  # noqa: E402
from videossr.train.trl_data import RenderExamples, keep_frame_indices, plain_rows, trl_dataset  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def built(tmp_path_factory, clips_dir):
    from videossr.build import build
    from videossr.recipe import load_recipe

    out = tmp_path_factory.mktemp("trl-data")
    build(clips_dir, out, load_recipe("videossr30k"), size=6, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def answering_checkpoint(tmp_path_factory, built):
    """The tiny Qwen3-VL after 40 supervised steps on answers in the tasks' formats (the build's and others)."""
    path = save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-answering"))
    return teach_answers(path, plain_rows(built / "train.parquet")["ground_truth"])


def test_frames_become_images_with_timestamps(built):
    """Grounding rows: one image per kept frame after its ``<t seconds>``; jigsaw clips restart at 0.0 s."""
    from trl.data_utils import prepare_multimodal_messages

    ds = trl_dataset(built / "train.parquet", frames_per_video=4)
    rows = plain_rows(built / "train.parquet")
    for i in range(len(ds)):
        example, videos = ds[i], json.loads(rows["videos"][i])
        parts = [p for m in example["prompt"] for p in m["content"]]
        stamps = [p["text"] for p in parts if p["type"] == "text" and p["text"].endswith(" seconds>")]
        assert sum(p["type"] == "image" for p in parts) == len(example["images"]) == 4 * len(videos) == len(stamps)
        kept = keep_frame_indices(len(videos[0]["video"]), 4)
        assert stamps[:4] == [f"<{k / videos[0]['sample_fps']:.1f} seconds>" for k in kept]
        if len(videos) > 1:  # jigsaw: "Clip k:" text, then that clip's frames from 0.0 s
            assert stamps[4] == "<0.0 seconds>" and any("Clip 2" in p.get("text", "") for p in parts)
        assert all(set(p) == ({"type", "text"} if p["type"] == "text" else {"type"}) for p in parts)  # no None-filled keys
        assert max(im.width * im.height for im in example["images"]) <= videos[0]["max_pixels"]
        # TRL's own filling of placeholders accepts it: every placeholder gets its image, in order
        filled = prepare_multimodal_messages(example["prompt"], images=example["images"])
        assert [p["image"] for m in filled for p in m["content"] if p["type"] == "image"] == example["images"]


def test_paper_hyperparameters_map_onto_grpo_config(built, tmp_path):
    from trl import GRPOConfig

    run = TrlRun(resolve(built), "/m", tmp_path)
    settings = grpo_settings(run, use_cpu=True)
    config = GRPOConfig(**settings)
    assert config.learning_rate == pytest.approx(1e-6) and config.beta == pytest.approx(1e-3)
    assert config.num_generations == 8 and config.num_train_epochs == 1 and config.temperature == 1.0
    assert config.max_completion_length == 2048 and config.entropy_coef == 0.0
    # 64 prompts x 8 rollouts per optimizer step: one group per micro-batch, 64 accumulated
    assert config.per_device_train_batch_size == 8 and config.gradient_accumulation_steps == 64
    assert config.per_device_train_batch_size * config.gradient_accumulation_steps == 64 * 8
    assert config.weight_decay == pytest.approx(0.01)  # the paper's and verl's AdamW weight decay
    assert config.save_strategy == "steps" and config.save_steps == 50 and config.save_total_limit == 2
    funcs, weights = reward_functions("strict")
    assert [f.__name__ for f in funcs] == ["videossr_strict", "videossr_smooth", "videossr_format"] and weights == [1.0, 0.0, 0.0]


def test_generation_is_one_micro_batch_not_the_whole_step(built, tmp_path):
    """At the paper's batch, one generate call makes one group of 8 responses (on-policy), not 64 x 8 = 512 at once."""
    from trl import GRPOConfig

    config = GRPOConfig(**grpo_settings(TrlRun(resolve(built), "/m", tmp_path), use_cpu=True))
    assert config.steps_per_generation == 1 and config.generation_batch_size == 8
    # generation every micro-step and a multiple of the accumulation: TRL computes no stale old log-probs
    assert config.gradient_accumulation_steps % (config.steps_per_generation * config.num_iterations) == 0

    config = GRPOConfig(**grpo_settings(TrlRun(resolve(built), "/m", tmp_path, generation_batch=4), use_cpu=True))
    assert config.generation_batch_size == 4 * 8 and config.steps_per_generation == 1
    assert config.per_device_train_batch_size * config.gradient_accumulation_steps == 64 * 8
    with pytest.raises(UserError, match="must divide"):
        TrlRun(resolve(built), "/m", tmp_path, generation_batch=5)
    assert GRPOConfig(**grpo_settings(TrlRun(resolve(built), "/m", tmp_path, save_steps=0), use_cpu=True)).save_strategy == "no"


def test_usage_errors(built, tmp_path, capsys):
    base = ["train", "trl", "--data", str(built), "--model", "/m", "--out", str(tmp_path / "r")]
    assert cli_main(base + ["--frames", "4"]) == 2 and "--video-as images" in capsys.readouterr().err
    assert cli_main(base + ["--resume", "--overwrite"]) == 2 and "pass one" in capsys.readouterr().err
    assert cli_main(base + ["--resume"]) == 2 and "no checkpoint" in capsys.readouterr().err


def test_trl_cpu_run_trains_logs_our_rewards_and_saves_a_loadable_model(built, answering_checkpoint, tmp_path, capsys):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    out = tmp_path / "run"
    code = cli_main(["train", "trl", "--video-as", "images", "--data", str(built), "--model", str(answering_checkpoint), "--out", str(out),
                     "--max-steps", "2", "--frames", "2", "--batch-prompts", "2", "--num-generations", "4",
                     "--max-completion-tokens", "8", "--no-progress"])
    assert code == 0 and "trained 2 step(s)" in capsys.readouterr().out

    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    logged = [s for s in steps if "loss" in s]
    assert len(logged) == 2
    for name in ("videossr_smooth", "videossr_strict", "videossr_format"):
        assert all(f"rewards/{name}/mean" in s for s in logged)
    assert any(s["rewards/videossr_format/mean"] > 0 for s in logged)  # answers parse
    assert any(s["reward_std"] > 0 for s in logged)  # groups with reward variance: a GRPO signal
    assert json.loads((out / "run.json").read_text())["grpo_config"]["beta"] == pytest.approx(1e-3)
    assert json.loads((out / "run.json").read_text())["video_as"] == "images"

    before, after = _state(answering_checkpoint), _state(out / "model")
    assert before.keys() == after.keys()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any("language_model" in k for k in changed), "no weight changed"

    # the saved folder is what `videossr eval --backend transformers --model PATH` loads
    processor = AutoProcessor.from_pretrained(out / "model")
    model = AutoModelForImageTextToText.from_pretrained(out / "model").eval()
    example = RenderExamples(frames_per_video=2)({k: v[:1] for k, v in plain_rows(built / "train.parquet").items()})
    from trl.data_utils import prepare_multimodal_messages

    messages = prepare_multimodal_messages(example["prompt"][0], images=example["images"][0])
    inputs = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt")
    assert "pixel_values" in inputs
    generated = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    assert generated.shape[1] > inputs["input_ids"].shape[1]


@pytest.mark.slow
def test_lora_run_is_merged_into_a_plain_model(built, answering_checkpoint, tmp_path):
    from videossr.train.trl import train

    run = TrlRun(resolve(built), str(answering_checkpoint), tmp_path / "lora", max_steps=2, lora_r=4, frames_per_video=2, video_as="images",
                 batch_prompts=2, num_generations=4, max_completion_tokens=8)
    result = train(run, progress=False)
    assert any(step.get("reward_std", 0) > 0 for step in result.log_history)
    before, after = _state(answering_checkpoint), _state(result.model_dir)
    assert before.keys() == after.keys()  # merged: no lora_A / lora_B keys left
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all("language_model" in k and k.endswith("proj.weight") for k in changed)
