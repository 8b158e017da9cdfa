"""``videossr eval`` on a {video, question, answer} JSON in the pretext formats (the official VIUBench
release's shape): scored as VIUBench subsets, the same scores as ``viubench score`` on our own
``eval.json`` export and the same predictions."""

import json
import shutil

import pytest

from videossr.errors import UserError
from videossr.evaluate.pretext_json import answer_task, subset_from_name
from videossr.evaluate.session import evaluate
from videossr.evaluate.loading import load_target
from videossr.viubench import SUBSETS, load_items, score_predictions
from videossr.viubench.baselines import write_baseline
from videossr.viubench.bench import build_bench


@pytest.fixture(scope="module")
def bench(tmp_path_factory, clips_dir):
    out = tmp_path_factory.mktemp("pretext") / "bench"
    build_bench(clips_dir, out, per_subset=1, seed=11, workers=1, progress=False)
    return out


def _subset_scores(report: dict) -> dict:
    return {name: row["score"] for name, row in report["subsets"].items()}


@pytest.mark.parametrize(("answer", "task"), [
    ("2.4-5.3", "grounding"), ("10-12", "grounding"), ("3,1,4", "counting"), ("12,0,16", "counting"), ("315264", "jigsaw"),
    ("86342175", "jigsaw"), ("B", None), ("2.4 - 5.3", None), ("3,1", None), ("112345", None), ("1234567", None), ("from 1 to 2", None),
])
def test_the_task_is_read_from_the_answer_format(answer, task):
    assert answer_task(answer) == task


@pytest.mark.parametrize(("name", "subset"), [
    ("ChannelSwap", "grounding_channel_swap"), ("VIUBench_Rotate.json", "grounding_rotate180"), ("zoom-out", "grounding_zoom_out"),
    ("grounding_mirror", "grounding_mirror"), ("Shuffle", "grounding_shuffle"), ("Counting Easy", "counting_easy"),
    ("count_hard", "counting_hard"), ("jigsaw-easy", "jigsaw_easy"), ("JigsawHard", "jigsaw_hard"), ("counting", None), ("eval", None),
])
def test_the_subset_is_read_from_a_name(name, subset):
    assert subset_from_name(name) == subset


def test_our_eval_json_scores_as_viubench_score_does(bench, tmp_path):
    items = load_items(bench)
    for name in ("random", "whole-video"):
        predictions = write_baseline(name, bench, tmp_path / f"{name}.jsonl")
        expected = score_predictions(predictions, bench)
        outcome = evaluate(bench / "eval" / "eval.json", backend="replay", backend_options={"path": str(predictions)}, video_dir=bench / "eval",
                           out=tmp_path / f"run-{name}", progress=False)
        assert outcome.report["kind"] == "viubench"
        table = expected.to_dict()  # percent, as the eval report
        assert _subset_scores(outcome.report) == _subset_scores(table) and list(table["subsets"]) == list(SUBSETS)
        assert [outcome.report[k] for k in ("tasks", "abilities", "overall")] == [table[k] for k in ("tasks", "abilities", "overall")]
    exact = tmp_path / "exact.jsonl"
    exact.write_text("".join(json.dumps({"id": i.id, "response": i.answer}) + "\n" for i in items), encoding="utf-8")
    outcome = evaluate(bench / "eval" / "eval.json", backend="replay", backend_options={"path": str(exact)}, video_dir=bench / "eval",
                       out=tmp_path / "run-exact", progress=False)
    assert set(_subset_scores(outcome.report).values()) == {100.0}


def test_every_frame_and_its_time_axis_reach_the_request(bench, tmp_path):
    target = load_target(bench / "eval" / "eval.json", video_dir=bench / "eval", work_dir=tmp_path / "frames")
    entries = {e["id"]: e for e in json.loads((bench / "eval" / "eval.json").read_text(encoding="utf-8"))}
    by_id = {i.id: i for i in load_items(bench)}
    for item in target.items:
        videos = [p for p in item.request.parts if not isinstance(p, str)]
        assert [len(v.frames) for v in videos] == [len(c) for c in by_id[item.id].clips]  # 48, or all 6 / 8 of each clip
        assert videos[0].sample_fps == pytest.approx(entries[item.id]["sample_fps"], rel=1e-4)
        assert item.request.system == by_id[item.id].system_prompt
        texts = [p for p in item.request.parts if isinstance(p, str)]
        assert "".join(texts).endswith(by_id[item.id].question)


def test_subsets_from_file_names_or_clip_counts_and_plain_grounding_stays_vtg(bench, tmp_path):
    entries = json.loads((bench / "eval" / "eval.json").read_text(encoding="utf-8"))
    bare = [{"video": e["video_files"] if len(e["video_files"]) > 1 else e["video_files"][0], "question": e["question"], "answer": e["answer"], "id": e["id"],
             "_subset": e["subset"]} for e in entries]
    named = tmp_path / "ChannelSwap.json"
    named.write_text(json.dumps([{k: v for k, v in e.items() if k != "_subset"} for e in bare if e["_subset"] == "grounding_channel_swap"]))
    target = load_target(named, video_dir=bench / "eval", work_dir=tmp_path / "f1")
    assert target.kind == "viubench" and [i.groups["subset"] for i in target.items] == ["grounding_channel_swap"]
    jigsaws = tmp_path / "release.json"
    jigsaws.write_text(json.dumps([{k: v for k, v in e.items() if k != "_subset"} for e in bare if e["_subset"].startswith("jigsaw")]))
    assert [i.groups["subset"] for i in load_target(jigsaws, video_dir=bench / "eval", work_dir=tmp_path / "f2").items] == ["jigsaw_easy", "jigsaw_hard"]
    grounding = tmp_path / "moments.json"  # intervals and no subset anywhere: an outside temporal-grounding benchmark
    grounding.write_text(json.dumps([{k: v for k, v in e.items() if k != "_subset"} for e in bare if e["_subset"] == "grounding_mirror"]))
    assert load_target(grounding, video_dir=bench / "eval", work_dir=tmp_path / "f3").kind == "vtg"
    counting = tmp_path / "mixed.json"
    counting.write_text(json.dumps([{k: v for k, v in e.items() if k != "_subset"} for e in bare if e["_subset"] == "counting_easy"]))
    with pytest.raises(UserError, match="cannot tell its VIUBench subset"):
        load_target(counting, video_dir=bench / "eval", work_dir=tmp_path / "f4")


def test_a_video_path_leaving_the_video_dir_is_refused_before_anything_is_read(bench, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = next((bench / "eval" / "videos").glob("counting-easy-*.mp4"))
    shutil.copy(secret, outside / "secret.mp4")
    video_dir = tmp_path / "videos"
    video_dir.mkdir()
    data = tmp_path / "counting_easy.json"
    data.write_text(json.dumps([{"video": "../outside/secret.mp4", "question": "How many?", "answer": "1,2,3"}]))
    with pytest.raises(UserError, match="leaves --video-dir"):
        load_target(data, video_dir=video_dir, work_dir=tmp_path / "frames")
    assert not (tmp_path / "frames").exists()
