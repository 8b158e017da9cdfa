"""The transformers backend with the offline tiny Qwen3-VL on real frames."""

from __future__ import annotations

import json

import pytest
from eval_helpers import small_bench, write_vqa_json
from tiny_qwen import tiny_checkpoint_dir

from videossr.backends import get_backend
from videossr.evaluate import load_target

SMALL_PIXELS = 128 * 128  # keeps the tiny model's video tokens few; the code path is the same


@pytest.fixture(scope="module")
def vqa_target(tmp_path_factory, clips_dir):
    tmp = tmp_path_factory.mktemp("vqa")
    return load_target(write_vqa_json(tmp / "vqa.json"), video_dir=clips_dir, work_dir=tmp / "frames")


@pytest.fixture(scope="module")
def backend():
    model = get_backend("transformers", model=str(tiny_checkpoint_dir()), batch_size=4, max_pixels=SMALL_PIXELS, device="cpu", dtype="float32")
    yield model
    model.close()


def test_batched_equals_one_at_a_time(vqa_target, backend):
    requests = [item.request for item in vqa_target.items][::2]  # one per clip: 8, 10, 20 and 20 frames
    assert len({len(r.videos[0].frames) for r in requests}) > 1  # different lengths: real left padding
    batched = backend.generate(requests, max_tokens=8)
    single = get_backend("transformers", model=str(tiny_checkpoint_dir()), batch_size=1, max_pixels=SMALL_PIXELS, device="cpu", dtype="float32")
    one_by_one = single.generate(requests, max_tokens=8)
    assert all(g.ok and len(g.texts) == 1 for g in batched)
    assert [g.texts for g in batched] == [g.texts for g in one_by_one]
    assert len({g.texts for g in batched}) > 1  # the inputs matter: not one constant output


def test_frames_go_in_as_a_video_with_their_timestamps(vqa_target, backend):
    item = next(i for i in vqa_target.items if i.id == "bikes-what")
    video = item.request.videos[0]
    assert len(video.frames) == 20 and video.sample_fps == pytest.approx(25 / 13)  # bikes: frames 13 source frames apart (the video's own axis)
    prompt = backend.render(item.request)
    # Qwen3-VL: one timestamp per temporal patch of 2 frames, at the mean of its frames' i / sample_fps
    stamps = [f"<{(2 * j + 2 * j + 1) / 2 / video.sample_fps:.1f} seconds>" for j in range(10)]
    positions = [prompt.index(s) for s in stamps]
    assert positions == sorted(positions)
    assert "What does the video show?" in prompt and "<|video_pad|>x" in prompt


def test_sampling_gives_n_outputs_reproducibly(vqa_target, backend):
    requests = [item.request for item in vqa_target.items][:2]
    first = backend.generate(requests, n=3, temperature=1.0, max_tokens=6, seed=7)
    again = backend.generate(requests, n=3, temperature=1.0, max_tokens=6, seed=7)
    assert all(len(g.texts) == 3 for g in first)
    assert [g.texts for g in first] == [g.texts for g in again]
    assert any(len(set(g.texts)) > 1 for g in first)  # sampled, not greedy copies


def test_eval_viubench_with_the_tiny_model_resumes(tmp_path, capsys):
    from videossr.cli import main

    args = ["eval", str(small_bench()), "--backend", "transformers", "--model", str(tiny_checkpoint_dir()), "--device", "cpu",
            "--max-pixels", str(SMALL_PIXELS), "--max-tokens", "8", "--batch-size", "3", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main(args + ["--limit", "2"]) == 0
    assert len((tmp_path / "o" / "predictions.jsonl").read_text().splitlines()) == 2
    capsys.readouterr()
    assert main(args + ["--limit", "4"]) == 0  # resumes: only the 2 new items are asked
    out = capsys.readouterr().out
    assert "VIUBench" in out and "Overall" in out and "2 answered this run (2 asked the backend)" in out
    rows = [json.loads(line) for line in (tmp_path / "o" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["error"] is None and len(r["outputs"]) == 1 for r in rows)
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["items"] == 4 and report["run"]["backend"]["model"] == str(tiny_checkpoint_dir())


def test_dry_run_prints_one_rendered_request(tmp_path, capsys):
    from videossr.cli import main

    args = ["eval", str(small_bench()), "--backend", "transformers", "--model", str(tiny_checkpoint_dir()), "--device", "cpu",
            "--max-pixels", str(SMALL_PIXELS), "--out", str(tmp_path / "o"), "--dry-run"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("# item counting-easy-") and "<|im_start|>system" in out and "seconds>" in out
    assert not (tmp_path / "o" / "predictions.jsonl").exists()
