"""Eval reports: 95 % confidence intervals (hand-computed / simulated), per-group rows for outside JSONs, model labels, prompt templates."""

from __future__ import annotations

import json
import math
import random

import pytest
from eval_helpers import write_vqa_json

from videossr.backends import get_backend
from videossr.errors import UserError
from videossr.evaluate import load_target, run_eval
from videossr.evaluate.report import bootstrap_interval, confidence_interval, default_label, stratified_bootstrap_interval, wilson_interval


def test_wilson_interval_against_the_textbook_formula():
    # 5 of 10 and 0 of 10, worked by hand: centre (p + z²/2n) / (1 + z²/n), half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)
    z = 1.959963984540054
    for k, n in ((5, 10), (0, 10), (97, 100)):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        assert wilson_interval(k, n) == pytest.approx((max(0, centre - half), min(1, centre + half)))
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)  # the published table value
    assert confidence_interval([1.0, 0.0] * 5) == (wilson_interval(5, 10), "wilson")


def test_bootstrap_is_seeded_and_covers_the_mean_at_the_stated_rate():
    values = [0.1, 0.9, 0.5, 0.25, 0.75, 0.4, 0.6]
    assert bootstrap_interval(values) == bootstrap_interval(values)  # seeded: the same report every run
    assert confidence_interval(values)[1] == "bootstrap"
    # coverage of the true mean over simulated samples of IoU-like values (independent of our code's internals)
    rng = random.Random(1)
    hits = 0
    for _ in range(200):
        sample = [rng.betavariate(2, 3) for _ in range(60)]
        low, high = bootstrap_interval(sample, resamples=500)
        hits += low <= 0.4 <= high  # Beta(2, 3) has mean 0.4
    assert 0.88 <= hits / 200 <= 0.99
    low, high = stratified_bootstrap_interval({"a": [1.0] * 10, "b": [0.0] * 10})
    assert low == high == pytest.approx(0.5)  # no spread inside either subset: the mean of means exactly


def test_default_labels_tell_checkpoints_apart():
    a = {"backend": "transformers", "model": "/scratch/projects/videossr/checkpoints/run-7/global_step_100/actor/huggingface"}
    b = {**a, "model": a["model"].replace("step_100", "step_200")}
    assert len(default_label(a)) <= 36 and default_label(a) != default_label(b) and "global_step_100" in default_label(a)
    assert default_label({"backend": "openai", "model": "Qwen/Qwen3-VL-8B-Instruct"}) == "Qwen/Qwen3-VL-8B-Instruct"


def _grouped_json(tmp_path):
    items = json.loads(write_vqa_json(tmp_path / "vqa.json").read_text())
    for k, item in enumerate(items):
        item["domain"] = ("sports", "film")[k % 2]
        item["duration"] = ("short", "short", "long")[k % 3]
    (tmp_path / "vqa.json").write_text(json.dumps(items))
    return items


def test_outside_reports_have_rows_per_domain_and_duration_with_intervals(tmp_path, clips_dir, capsys):
    from videossr.cli import main

    items = _grouped_json(tmp_path)
    replay = tmp_path / "replay.jsonl"
    answers = {item["id"]: (item["answer"] if k % 4 else "Z") for k, item in enumerate(items)}  # every 4th wrong
    replay.write_text("".join(json.dumps({"id": k, "response": v}) + "\n" for k, v in answers.items()))
    code = main(["eval", str(tmp_path / "vqa.json"), "--video-dir", str(clips_dir), "--backend", "replay", "--replay-file", str(replay),
                 "--out", str(tmp_path / "o"), "--label", "step-400", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["label"] == "step-400" and printed.startswith("step-400: vqa")
    rows = {(r["group"]["category"], r["group"]["domain"], r["group"]["duration"]): r for r in report["groups"]}
    for key in ("domain", "duration", "category"):
        for value in {item[key] for item in items}:
            members = [k for k, item in enumerate(items) if item[key] == value]
            row = next(r for r in report["groups"] if r["group"][key] == value and all(r["group"][o] == "(all)" for o in ("domain", "duration", "category") if o != key))
            correct = sum(1 for k in members if k % 4)
            assert row["items"] == len(members) and row["score"] == pytest.approx(correct / len(members))
            assert row["score_ci95"] == pytest.approx(list(wilson_interval(correct, len(members))), abs=1e-6)
    assert len(rows) == len(report["groups"])  # one row per value of each key, no cross products
    assert report["overall"]["score"] == pytest.approx(6 / 8) and report["ci"]["methods"] == {"wilson": "Wilson score interval (items scored 0/1)"}
    assert "95% CI" in printed and "long" in printed and "film" in printed


def test_prompt_template_fills_the_question_and_defaults_to_a_letter_line(tmp_path, clips_dir):
    path = write_vqa_json(tmp_path / "vqa.json")
    default = load_target(path, video_dir=clips_dir, work_dir=tmp_path / "f")
    text = default.items[0].request.parts[-1]
    assert text.startswith("\nWhat does the video show?\nA. an animal") and text.rstrip().endswith("letter of the correct option.")
    custom = load_target(path, video_dir=clips_dir, work_dir=tmp_path / "f", prompt_template="Q: {question}\nAnswer:")
    assert custom.items[0].request.parts[-1] == "\nQ: What does the video show?" + json.loads(path.read_text())[0]["question"][len("What does the video show?"):] + "\nAnswer:"
    assert custom.info["prompt_template"] == "Q: {question}\nAnswer:" and custom.info != default.info  # another run identity
    with pytest.raises(UserError, match="exactly once"):
        load_target(path, video_dir=clips_dir, work_dir=tmp_path / "f", prompt_template="no placeholder")


def test_fps_and_max_frames_set_the_outside_sampling(tmp_path, clips_dir):
    path = write_vqa_json(tmp_path / "vqa.json")
    one = load_target(path, video_dir=clips_dir, work_dir=tmp_path / "f", fps=1.0)
    frames = {item.id: item.request.videos[0] for item in one.items}
    assert len(frames["bikes-what"].frames) == 10  # 10 s at fps 1
    capped = load_target(path, video_dir=clips_dir, work_dir=tmp_path / "g", fps=4.0, max_frames=12)
    assert len({item.id: item.request.videos[0] for item in capped.items}["bikes-what"].frames) == 12
    with pytest.raises(UserError, match="--fps"):
        load_target(path, video_dir=clips_dir, work_dir=tmp_path / "f", fps=0)


def test_outside_controls_are_refused_for_other_targets(tmp_path):
    from eval_helpers import small_dataset

    with pytest.raises(UserError, match="keeps its own prompts and time axis"):
        load_target(small_dataset(), fps=1.0)


def test_viubench_report_carries_an_overall_interval(tmp_path):
    from eval_helpers import small_bench

    target = load_target(small_bench())
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"id": item.id, "response": item.ground_truth}) + "\n" for item in target.items))
    report = run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "o", progress=False)
    low, high = report["ci95"]["overall"]
    assert low <= report["overall"] <= high and "bootstrap" in report["ci95"]["method"]
    assert "+/- 95% CI (bootstrap)" in report["table"]  # printed under the model's row
