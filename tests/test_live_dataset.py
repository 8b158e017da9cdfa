"""The live dataset: at the default rungs it is the static build, row for row and byte for byte."""

import base64
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import tree_digest
from videossr.build import build
from videossr.errors import UserError
from videossr.live.dataset import LiveDataset, check_live_recipe, rung_entry
from videossr.recipe import RecipeEntry, load_recipe


@pytest.fixture(scope="module")
def small_build(tmp_path_factory, clips_dir):
    out = tmp_path_factory.mktemp("live-build")
    build(clips_dir, out, load_recipe("videossr30k"), size=12, workers=1, progress=False)
    return out


def _static_rows(out: Path) -> dict:
    return {r["extra_info"]["sample_id"]: r for r in pq.read_table(out / "train.parquet").to_pylist()}


def test_default_rungs_reproduce_the_static_build_byte_for_byte(small_build, tmp_path):
    static = _static_rows(small_build)
    live = LiveDataset(small_build, tmp_path / "frames")
    assert len(live) == len(static) == 12
    seen = set()
    for i in range(len(live)):
        row = live[i]
        twin = static[row["extra_info"]["sample_id"]]
        seen.add(row["extra_info"]["sample_id"])
        assert row["prompt"] == twin["prompt"] and row["reward_model"] == twin["reward_model"] and row["data_source"] == twin["data_source"]
        drop = ("index", "split", "live")
        assert {k: v for k, v in row["extra_info"].items() if k not in drop} == {k: v for k, v in twin["extra_info"].items() if k not in drop}
        assert row["extra_info"]["live"]["rung"] == live.default_rung(row["extra_info"]["task"])
        for ours, theirs in zip(row["videos"], twin["videos"], strict=True):
            assert {k: v for k, v in ours.items() if k != "video"} == {k: v for k, v in theirs.items() if k != "video"}
            assert [Path(p).read_bytes() for p in ours["video"]] == [Path(p).read_bytes() for p in theirs["video"]]
    assert seen == set(static)
    assert live.stats.items == 12 and live.stats.ms_per_item > 0


def test_a_moved_rung_changes_only_that_task_and_is_seeded(small_build, tmp_path):
    before = tree_digest(small_build)
    rungs = {"jigsaw": 5, "counting": 4, "grounding": 3}  # jigsaw one harder (n=7); the others at their defaults
    live = LiveDataset(small_build, tmp_path / "frames", rung_of=rungs.__getitem__)
    static = _static_rows(small_build)
    rows = [live[i] for i in range(len(live))]
    for row in rows:
        extra = row["extra_info"]
        if extra["task"] == "jigsaw":
            assert extra["variant"] == "n7" and len(row["videos"]) == 7 and extra["sample_id"].endswith("-r5")
            assert sorted(row["reward_model"]["ground_truth"]) == list("1234567")
            assert all(str(tmp_path / "frames") in p or "/store/frames/" in p for v in row["videos"] for p in v["video"])
        else:
            assert row["reward_model"] == static[extra["sample_id"]]["reward_model"]
    again = LiveDataset(small_build, tmp_path / "frames2", rung_of=rungs.__getitem__)
    assert [again[i]["reward_model"] for i in range(len(again))] == [r["reward_model"] for r in rows]
    assert tree_digest(small_build) == before  # the build folder is only read


def test_inline_frames_are_the_same_jpegs(small_build, tmp_path):
    rung_of = {"jigsaw": 4, "counting": 4, "grounding": 5}.__getitem__  # grounding: shorter segments (6-12 frames)
    on_disk = LiveDataset(small_build, tmp_path / "frames", rung_of=rung_of)
    inline = LiveDataset(small_build, inline=True, rung_of=rung_of)
    item = next(i for i in range(len(on_disk)) if on_disk.task_of(i) == "grounding")
    a, b = on_disk[item], inline[item]
    assert a["reward_model"] == b["reward_model"]
    start, end = (float(x) for x in a["reward_model"]["ground_truth"].split("-"))
    fps = a["videos"][0]["sample_fps"]
    assert 6 <= round((end - start) * fps) <= 12
    uris = [p for p in b["videos"][0]["video"] if p.startswith("data:image/jpeg;base64,")]
    files = [p for p in a["videos"][0]["video"] if str(tmp_path) in p]
    assert uris and len(uris) == len(files)
    assert [base64.b64decode(u.split(",", 1)[1]) for u in uris] == [Path(f).read_bytes() for f in files]


def test_rung_entry_keeps_the_grounding_perturbation_and_refuses_mixed_difficulty_recipes():
    variant, options = rung_entry(RecipeEntry("grounding", "mirror", 1.0), 7)  # subtle pool, 2-6 frames
    assert variant == "mirror" and options == {"min_length": 2, "max_length": 6}
    variant, options = rung_entry(RecipeEntry("grounding", "mixed", 1.0), 0)
    assert variant == "mixed" and options["perturbations"] == ["grayscale", "invert", "rotate180", "noise"]
    assert rung_entry(RecipeEntry("jigsaw", "easy", 1.0), 4) == ("easy", {})
    check_live_recipe(load_recipe("videossr30k"))
    with pytest.raises(UserError, match="counting-hard"):
        check_live_recipe(load_recipe("all-tasks"))


def test_trl_live_reward_reports_groups_and_logs_the_controller(small_build, tmp_path):
    pytest.importorskip("torch")
    from types import SimpleNamespace

    from videossr.live.hub import LiveHub
    from videossr.live.trl import LiveExamples, LiveReward

    hub = LiveHub(["grounding", "jigsaw", "counting"], rollouts=2, state_path=str(tmp_path / "live.json"), config={"min_groups": 2})
    live = LiveDataset(small_build, tmp_path / "frames", rung_of=hub.rung)
    examples = LiveExamples(live, lambda row: {"prompt": row["prompt"], "data_source": row["data_source"], "ground_truth": row["reward_model"]["ground_truth"]})
    jigsaw = [i for i in range(len(live)) if live.task_of(i) == "jigsaw"][:2]
    rows = examples({"live_item": [i for i in jigsaw for _ in range(2)]})  # TRL's sampler: each prompt once per rollout
    batch = [dict(zip(rows, values)) for values in zip(*rows.values())]
    assert live.stats.items == 2  # made once per prompt, not once per rollout
    columns = {k: [ex[k] for ex in batch] for k in ("data_source", "ground_truth", "task", "live_rung", "live_item")}
    logged = {}
    reward = LiveReward(hub)
    values = reward(prompts=None, completions=[ex["ground_truth"] for ex in batch], trainer_state=SimpleNamespace(global_step=3),
                    log_metric=logged.__setitem__, **columns)
    assert values == [1.0] * 4 and reward.__name__ == "videossr_smooth"
    assert [(d["step"], d["task"], d["from_rung"], d["to_rung"]) for d in hub.decisions()] == [(3, "jigsaw", 4, 5)]
    assert logged["live/rung/jigsaw"] == 5.0 and logged["live/zero_variance_share"] == 1.0 and logged["live/mean_smooth/jigsaw"] == 1.0
    assert examples({"live_item": [jigsaw[0]]})["live_rung"] == [5]  # the next draw follows the controller
    resumed = LiveHub(["grounding", "jigsaw", "counting"], rollouts=2, state_path=str(tmp_path / "live.json"))
    assert resumed.rungs() == hub.rungs() and resumed.decisions() == hub.decisions()
