"""Degenerate timing (issue 17, Found 4): videos whose time axis cannot carry a one-decimal answer are
skipped with a reason, never turned into "0.0-0.0"; scorers give 0 (with a warning) for an
unscorable ground truth instead of ending a whole run."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from integrity_helpers import make_folder
from media import write_video

from videossr.build import build
from videossr.recipe import parse_recipe
from videossr.rewards import compute, data_source_for
from videossr.rewards.grounding import UnscorableTruthWarning, parse_ground_truth
from videossr.rewards.verl import compute_score
from videossr.sampling import MAX_DURATION_S, MIN_DURATION_S, SamplingConfig, SkipVideo, sample_video
from videossr.score import score_predictions
from videossr.tasks import get_task
from videossr.tasks.base import SampleContext, SkipSample

GROUNDING = data_source_for("grounding")


@pytest.mark.parametrize("name, kwargs", [
    ("megahertz.mp4", {"fps": 10**6}),  # 200 frames in 0.0002 s
    ("squeezed.mkv", {"pts_seconds": [k / 600 for k in range(200)]}),  # 200 frames in a third of a second
])
def test_videos_too_short_in_time_are_skipped_with_a_reason(tmp_path, name, kwargs):
    path = write_video(tmp_path / name, n_frames=200, width=64, height=48, **kwargs)
    with pytest.raises(SkipVideo, match="too short in time") as caught:
        sample_video(path, SamplingConfig(num_frames=16))
    assert f"{MIN_DURATION_S:g} s" in caught.value.reason


def test_implausible_duration_is_skipped(tmp_path):
    pts = [k / 25 for k in range(59)] + [MAX_DURATION_S * 2]  # one frame eons after the others
    path = write_video(tmp_path / "gap.mkv", n_frames=60, width=64, height=48, pts_seconds=pts)
    with pytest.raises(SkipVideo, match="implausible duration"):
        sample_video(path, SamplingConfig(num_frames=16))


def test_grounding_never_makes_an_answer_that_cannot_be_scored():
    """Even on a time axis the sampler would refuse (80,000 fps), the task skips rather than emit '0.0-0.0'."""
    frames = np.random.default_rng(0).integers(0, 255, (16, 32, 32, 3), dtype=np.uint8)
    ctx = SampleContext(video_id="v", frames=frames, sample_fps=80_000.0)
    task = get_task("grounding")
    opts = task.options("invert", min_length=4, max_length=6)
    with pytest.raises(SkipSample, match="one decimal"):
        task.make(ctx, opts, np.random.default_rng(1), 0, "invert")
    # a plausible axis still works, and its answer parses
    sample = task.make(SampleContext(video_id="v", frames=frames, sample_fps=8.0), opts, np.random.default_rng(1), 0, "invert")
    parse_ground_truth(sample.answer)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("degenerate")
    src = make_folder(root / "src", 2)
    write_video(src / "megahertz.mp4", n_frames=200, width=128, height=96, fps=10**6)
    recipe = parse_recipe({"name": "t", "sampling": {"num_frames": 16},
                           "entries": [{"task": "grounding", "variant": "invert", "options": {"min_length": 4, "max_length": 6}}]})
    build(src, root / "out", recipe, workers=1, progress=False)
    return root / "out"


def test_build_skips_the_degenerate_video_and_keeps_the_others(built):
    rows = pq.read_table(built / "train.parquet").to_pylist()
    assert rows and {r["extra_info"]["video_id"] for r in rows} == {"v0", "v1"}
    for r in rows:
        parse_ground_truth(r["reward_model"]["ground_truth"])
    skipped = [json.loads(line) for line in (built / "skipped.jsonl").read_text().splitlines()]
    assert any(s.get("video_id") == "megahertz" and "too short in time" in s["reason"] for s in skipped)


# ----------------------------------------------------------------------------- scorers


@pytest.mark.parametrize("truth", ["0.0-0.0", "3.0-1.0", "garbage"])
def test_unscorable_truth_scores_zero_with_a_warning(truth):
    with pytest.warns(UnscorableTruthWarning):
        result = compute(GROUNDING, "<answer>0.0-0.1</answer>", truth)
    assert (result.score, result.strict, result.format_ok, result.reason) == (0.0, 0.0, True, "unscorable ground truth")
    with pytest.warns(UnscorableTruthWarning):
        metrics = compute_score(GROUNDING, "0.0-0.1", truth)
    assert metrics["score"] == 0.0 and set(metrics) == {"score", "smooth", "strict", "format_ok", "viubench"}


def test_score_runs_through_an_unscorable_truth(tmp_path):
    rows = [("g0", "0.0-0.0"), ("g1", "1.0-2.0")]
    pq.write_table(pa.Table.from_pylist([
        {"data_source": GROUNDING, "reward_model": {"style": "rule", "ground_truth": truth},
         "extra_info": {"index": i, "sample_id": sid, "task": "grounding", "variant": "invert"}}
        for i, (sid, truth) in enumerate(rows)]), tmp_path / "d.parquet")
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"sample_id": sid, "response": "1.0-2.0"}) + "\n" for sid, _ in rows))
    with pytest.warns(UnscorableTruthWarning):
        report = score_predictions(tmp_path / "p.jsonl", tmp_path / "d.parquet")
    assert report.overall.smooth == pytest.approx(0.5) and report.overall.predictions == 2
    result = subprocess.run([sys.executable, "-m", "videossr", "score", str(tmp_path / "p.jsonl"), "--dataset", str(tmp_path / "d.parquet")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "0.0-0.0" in result.stderr


def test_replay_eval_runs_through_an_unscorable_truth(built, tmp_path):
    import shutil

    from videossr.export import SCHEMA

    ds = tmp_path / "ds"
    shutil.copytree(built, ds)
    assert subprocess.run([sys.executable, "-m", "videossr", "relocate", str(ds)], capture_output=True).returncode == 0
    rows = pq.read_table(ds / "train.parquet").to_pylist()
    rows[0]["reward_model"]["ground_truth"] = "0.0-0.0"  # what a degenerate video used to yield
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), ds / "train.parquet")
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"sample_id": r["extra_info"]["sample_id"], "response": "0.0-0.1"}) + "\n" for r in rows))
    result = subprocess.run([sys.executable, "-m", "videossr", "eval", str(ds), "--backend", "replay", "--replay-file", str(tmp_path / "p.jsonl"),
                             "--out", str(tmp_path / "eval"), "--no-progress"], capture_output=True, text=True)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert f"{len(rows)} items, 0 errors" in result.stdout + result.stderr
