import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from conftest import tree_digest
from videossr.build import build
from videossr.cli import main
from videossr.export import export_eval, relocate
from videossr.preview import preview, render_sheet
from videossr.recipe import load_recipe, parse_recipe


def _rows(out):
    return pq.read_table(out / "train.parquet").to_pylist()


def _load(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_all_tasks_build_has_every_entry(built_all_tasks):
    out, report = built_all_tasks
    recipe = load_recipe("all-tasks")
    assert report.per_entry == {e.key: 4 for e in recipe.entries}  # one per entry per video, 4 videos
    assert not report.video_skips and not report.sample_skips
    summary = json.loads((out / "summary.json").read_text())
    assert summary["samples"] == len(_rows(out)) == 4 * len(recipe.entries)
    assert {p.stem for p in (out / "tasks").glob("*.parquet")} == {e.key for e in recipe.entries}


def test_rows_follow_the_verl_contract(built_all_tasks):
    out, _ = built_all_tasks
    rows = _rows(out)
    assert sorted(r["extra_info"]["index"] for r in rows) == list(range(len(rows)))
    assert len({r["extra_info"]["sample_id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["prompt"][0]["role"] == "system" and r["prompt"][1]["role"] == "user"
        assert r["prompt"][1]["content"].count("<video>") == len(r["videos"]) >= 1
        for v in r["videos"]:
            assert set(v) == {"video", "sample_fps", "max_pixels", "min_pixels"}
            assert (v["max_pixels"], v["min_pixels"]) == (256 * 256, 128 * 128)
            assert all(Path(p).is_absolute() and Path(p).is_file() for p in v["video"])
        assert r["reward_model"]["style"] == "rule"
        assert r["data_source"] == "videossr/" + r["extra_info"]["task"]


def test_every_data_source_resolves_and_the_true_answer_scores_one(built_all_tasks):
    from videossr.rewards import scorer_for
    from videossr.rewards.verl import compute_score

    for r in _rows(built_all_tasks[0]):
        scorer_for(r["data_source"])
        result = compute_score(r["data_source"], r["reward_model"]["ground_truth"], r["reward_model"]["ground_truth"], r["extra_info"])
        assert result["score"] == 1.0, r["extra_info"]["sample_id"]


def test_answers_verify_against_the_frames_on_disk(built_all_tasks):
    out, _ = built_all_tasks
    store = lambda vid, i: str((out / "store" / "frames" / vid / f"{i:06d}.jpg").resolve())  # noqa: E731
    for r in _rows(out):
        info, params = r["extra_info"], json.loads(r["extra_info"]["params"])
        paths = [v["video"] for v in r["videos"]]
        vid = info["video_id"]
        if info["task"] == "grounding":
            a, b, fps = params["start_frame"], params["start_frame"] + params["length_frames"], info["sample_fps"]
            start, end = map(float, r["reward_model"]["ground_truth"].split("-"))
            assert abs(start - a / fps) <= 0.05 + 1e-9 and abs(end - b / fps) <= 0.05 + 1e-9
            assert all(paths[0][i] == store(vid, i) for i in range(48) if not a <= i < b)
            segment = paths[0][a:b]
            assert segment != [store(vid, i) for i in range(a, b)]
            if params["perturbation"] not in ("shuffle", "stutter_hold", "slow", "fast"):
                assert all("/samples/" in p for p in segment)
                assert all(np.abs(_load(p).astype(int) - _load(store(vid, i))).mean() > 1 for p, i in zip(segment, range(a, b)))
        elif info["task"] == "counting":
            shaped = {p["frame"] for p in params["placements"]}
            assert [i for i, p in enumerate(paths[0]) if "/samples/" in p] == sorted(shaped)
            totals = [sum(len(p["instances"]) for p in params["placements"] if p["shape"] == s) for s in ("circle", "square", "triangle")]
            assert r["reward_model"]["ground_truth"] == ",".join(map(str, totals))
        else:
            answer = r["reward_model"]["ground_truth"]
            order = [int(x) for x in (answer.split(",") if "," in answer else answer)]
            restored = [p for k in order for p in paths[k - 1]]
            assert restored == [store(vid, i) for i in range(len(restored))]
            assert r["prompt"][1]["content"].startswith("Clip 1: <video>\nClip 2: <video>")


def test_parquet_loads_with_datasets(built_all_tasks):
    datasets = pytest.importorskip("datasets")
    out, _ = built_all_tasks
    ds = datasets.load_dataset("parquet", data_files=str(out / "train.parquet"), split="train")
    assert len(ds) == len(_rows(out))
    assert set(ds.column_names) == {"data_source", "prompt", "videos", "ability", "reward_model", "extra_info"}


def test_sources_untouched_and_same_rows_with_two_workers(tmp_path, clips_dir, built_all_tasks):
    before = tree_digest(clips_dir)
    build(clips_dir, tmp_path / "w2", load_recipe("all-tasks"), workers=2, progress=False)
    assert tree_digest(clips_dir) == before
    one, two = built_all_tasks[0], tmp_path / "w2"

    def normalised(root):
        rows = _rows(root)
        for r in rows:
            for v in r["videos"]:
                v["video"] = [p.replace(str(root.resolve()), "") for p in v["video"]]
        return rows

    assert normalised(one) == normalised(two)
    assert tree_digest(one / "samples") == tree_digest(two / "samples")


def test_size_and_seed(tmp_path, clips_dir):
    recipe = load_recipe("videossr30k")
    report = build(clips_dir, tmp_path / "a", recipe, size=30, workers=1, progress=False)
    assert report.rows == 30 and report.per_entry == {"grounding-channel_swap": 3, "grounding-rotate180": 3, "grounding-zoom_out": 3, "grounding-mirror": 3, "jigsaw-easy": 12, "counting-easy": 6}
    from dataclasses import replace

    build(clips_dir, tmp_path / "b", replace(recipe, seed=1), size=30, workers=1, progress=False)
    answers = lambda root: sorted((r["extra_info"]["sample_id"], r["reward_model"]["ground_truth"]) for r in _rows(root))  # noqa: E731
    assert answers(tmp_path / "a") != answers(tmp_path / "b")


def test_relocating_a_moved_dataset(tmp_path, clips_dir):
    build(clips_dir, tmp_path / "orig", load_recipe("videossr30k"), workers=1, progress=False)
    moved = tmp_path / "elsewhere" / "ds"
    shutil.move(str(tmp_path / "orig"), str(moved))
    assert main(["relocate", str(moved)]) == 0
    for parquet in [moved / "train.parquet", *(moved / "tasks").glob("*.parquet")]:
        for r in pq.read_table(parquet).to_pylist():
            assert all(p.startswith(str(moved.resolve())) and Path(p).is_file() for v in r["videos"] for p in v["video"])
    assert relocate(moved, "/mnt/data/ds") == 40  # paths for a machine that mounts it elsewhere
    first = pq.read_table(moved / "train.parquet").to_pylist()[0]["videos"][0]["video"][0]
    assert first.startswith("/mnt/data/ds/")


def test_eval_export_mp4_time_axis_matches_the_answer(built_all_tasks, tmp_path):
    import av

    out, _ = built_all_tasks
    rows = _rows(out)[:10]
    path = export_eval(out, tmp_path / "eval", limit=10, progress=False)
    items = json.loads(path.read_text())
    assert [i["video"] for i in items] == [r["extra_info"]["sample_id"] for r in rows]
    for item, row in zip(items, rows):
        assert set(item) >= {"video", "question", "answer"} and item["answer"] == row["reward_model"]["ground_truth"]
        assert len(item["video_files"]) == len(row["videos"])
        with av.open(str(tmp_path / "eval" / item["video_files"][0])) as c:
            times = [float(f.pts * f.time_base) for f in c.decode(video=0)]
        expected = np.arange(len(row["videos"][0]["video"])) / row["extra_info"]["sample_fps"]
        assert len(times) == len(expected) and np.allclose(times, expected, atol=1e-3)


def test_preview_marks_the_answer(built_all_tasks, tmp_path):
    out, _ = built_all_tasks
    paths = preview(out, tmp_path / "pv", n=21)
    assert len(paths) == 21 and all(p.suffix == ".png" and p.stat().st_size > 1000 for p in paths)
    assert len({p.name.rsplit("-", 1)[0] for p in paths}) == 21  # one per task-variant

    def red_pixels(row):
        sheet = np.asarray(render_sheet(row)).astype(int)
        return int(((sheet[..., 0] == 230) & (sheet[..., 1] == 40) & (sheet[..., 2] == 40)).sum())

    rows = {r["extra_info"]["task"]: r for r in _rows(out)}
    assert red_pixels(rows["grounding"]) > 0 and red_pixels(rows["counting"]) > 0 and red_pixels(rows["jigsaw"]) == 0


def test_recipe_errors_are_clear(tmp_path):
    with pytest.raises(KeyError, match="did you mean 'videossr30k'"):
        load_recipe("videossr30")
    with pytest.raises(ValueError, match="did you mean 'mirror'"):
        parse_recipe({"entries": [{"task": "grounding", "variant": "miror"}]})
    with pytest.raises(ValueError, match="distinct"):
        parse_recipe({"entries": [{"task": "jigsaw", "variant": "easy"}, {"task": "jigsaw", "variant": "easy"}]})
    custom = tmp_path / "mine.yaml"
    custom.write_text("name: mine\nentries:\n  - {task: counting, variant: hard, weight: 2, options: {max_instances: 2}}\n")
    assert load_recipe(custom).entries[0].options == {"max_instances": 2}
