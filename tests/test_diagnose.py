"""videossr diagnose: exact statistics from replayed answers, the synthetic backend, the CLI, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from videossr.backends import Request, Video, get_backend
from videossr.backends.replay import ReplayBackend
from videossr.cli import main
from videossr.diagnose import Group, diagnose, diagnose_target, summarize
from videossr.diagnose.stats import ALL, format_table
from videossr.evaluate import load_target

K = 4
GARBAGE = "I cannot tell."


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory, clips_dir):
    """A real build: jigsaw (6 clips) and counting (easy) samples from the sample clips."""
    from videossr.build import build
    from videossr.recipe import parse_recipe

    out = tmp_path_factory.mktemp("diag-ds")
    recipe = parse_recipe({"name": "diag", "entries": [{"task": "jigsaw", "variant": "easy"}, {"task": "counting", "variant": "easy"}]})
    report = build(clips_dir, out, recipe, size=14, workers=1, progress=False)
    assert report.rows == 14
    return out


def _near_miss(task: str, truth: str) -> str:
    if task == "jigsaw":
        return truth[1] + truth[0] + truth[2:]  # first two clips swapped: a permutation, smooth in (0, 1)
    counts = [int(c) for c in truth.split(",")]
    return ",".join(map(str, [counts[0] + 1] + counts[1:]))


def _replay_plan(target):
    """Item j gets c_j = j % (K + 1) exact answers; the wrong ones are garbage (smooth 0), except for
    odd j with c_j = 0, where they alternate garbage / near miss (strict all 0, smooth varies)."""
    plan = {}
    for j, item in enumerate(target.items):
        c = j % (K + 1)
        wrong = [GARBAGE if (c > 0 or j % 2 == 0 or w % 2 == 0) else _near_miss(item.groups["task"], item.ground_truth) for w in range(K - c)]
        plan[item.id] = (c, [item.ground_truth] * c + wrong)
    return plan


def test_replayed_answers_give_the_exact_histogram_and_shares(small_dataset, tmp_path):
    target = load_target(small_dataset)
    plan = _replay_plan(target)
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"id": i, "outputs": outs}) + "\n" for i, (_, outs) in plan.items()))
    result = diagnose_target(target, ReplayBackend(answers, target=target), tmp_path / "diag", k=K, progress=False)

    assert (result.errors, result.incomplete, result.asked) == (0, 0, len(target.items))
    rows = {(s.task, s.variant): s for s in result.stats}
    for task, variant in (("jigsaw", "easy"), ("counting", "easy")):
        mine = [(j, item) for j, item in enumerate(target.items) if item.groups["task"] == task]
        cs = [plan[item.id][0] for _, item in mine]
        s = rows[(task, variant)]
        assert s.questions == len(mine)
        assert list(s.histogram) == np.bincount(cs, minlength=K + 1).tolist()
        assert s.zero_variance_strict == pytest.approx(sum(c in (0, K) for c in cs) / len(cs))
        assert s.zero_variance_smooth == pytest.approx(sum(c == K or (c == 0 and j % 2 == 0) for (j, _), c in zip(mine, cs)) / len(cs))
        assert s.mean_strict == pytest.approx(sum(cs) / (K * len(cs)))
        garbage = sum(outs.count(GARBAGE) for _, (c, outs) in ((i, plan[i.id]) for _, i in mine))
        assert s.format_failure_rate == pytest.approx(garbage / (K * len(cs)))
    overall = rows[(ALL, ALL)]
    assert list(overall.histogram) == np.bincount([c for c, _ in plan.values()], minlength=K + 1).tolist()

    saved = json.loads((tmp_path / "diag" / "diagnose.json").read_text())
    assert saved["format"] == "videossr-diagnose-1" and saved["sampling"]["k"] == K
    assert [g["histogram"] for g in saved["groups"]] == [list(s.histogram) for s in result.stats]
    questions = [json.loads(line) for line in (tmp_path / "diag" / "questions.jsonl").read_text().splitlines()]
    assert {q["id"]: q["correct"] for q in questions} == {i: c for i, (c, _) in plan.items()}
    with Image.open(tmp_path / "diag" / "diagnose.png") as png:
        assert png.format == "PNG" and png.size[0] > 800 and png.size[1] > 600  # two task rows


def test_rerun_asks_the_backend_nothing(small_dataset, tmp_path):
    target = load_target(small_dataset)
    first = diagnose_target(target, get_backend("synthetic"), tmp_path, k=K, progress=False)
    again = diagnose_target(target, get_backend("synthetic"), tmp_path, k=K, progress=False)
    assert first.asked == len(target.items) and again.asked == 0
    assert [s.to_dict() for s in again.stats] == [s.to_dict() for s in first.stats]


def test_synthetic_backend_is_seeded_and_accuracy_falls_with_difficulty(clips_dir, tmp_path):
    from videossr.build import build
    from videossr.recipe import parse_recipe

    recipe = parse_recipe({"name": "ladder-ends", "entries": [{"task": "jigsaw", "variant": "n2"}, {"task": "jigsaw", "variant": "n12"}]})
    build(clips_dir, tmp_path / "ds", recipe, size=16, workers=1, progress=False)
    target = load_target(tmp_path / "ds")
    backend = get_backend("synthetic", skill=5)
    requests = [item.request for item in target.items]
    first = backend.generate(requests, n=6, temperature=1.0, seed=3)
    assert backend.generate(requests, n=6, temperature=1.0, seed=3) == first
    assert backend.generate(requests, n=6, temperature=1.0, seed=4) != first
    exact = {"n2": [], "n12": []}
    for item, generation in zip(target.items, first):
        exact[item.groups["variant"]] += [text == item.ground_truth for text in generation.texts]
    assert np.mean(exact["n2"]) > 0.9 > 0.3 > np.mean(exact["n12"])
    greedy = backend.generate(requests, n=3, temperature=0.0)
    assert all(len(set(g.texts)) == 1 for g in greedy)
    frame = str(next(tmp_path.rglob("*.jpg")))
    outside = backend.generate([Request(system="", parts=(Video(frames=(frame,), sample_fps=1.0), "q"))], n=2)
    assert outside[0].error and "build dataset" in outside[0].error


def test_stats_of_hand_made_groups():
    groups = [Group("a", "t", "v", (1, 1, 1, 1), (1, 1, 1, 1)), Group("b", "t", "v", (0, 0, 0, 0), (0.2, 0.5, 0.2, 0.5)),
              Group("c", "t", "w", (0, 1, 0, 1), (0.0, 1.0, 0.0, 1.0), (False, True, True, True))]
    stats = {(s.task, s.variant): s for s in summarize(groups)}
    assert set(stats) == {("t", "v"), ("t", "w"), ("t", ALL), (ALL, ALL)}
    v = stats[("t", "v")]
    assert v.histogram == (1, 0, 0, 0, 1) and v.zero_variance_strict == 1.0 and v.zero_variance_smooth == 0.5
    assert v.smooth_std_quantiles["p50"] == pytest.approx(0.075)  # stds 0 and 0.15
    assert stats[("t", "w")].smooth_std_mean == pytest.approx(0.5) and stats[("t", "w")].format_failure_rate == 0.25
    assert stats[("t", ALL)].histogram == (1, 0, 1, 0, 1) and stats[("t", ALL)].mean_strict == pytest.approx(6 / 12)
    assert "zero-var strict" in format_table(list(stats.values()))
    with pytest.raises(ValueError, match="different sample counts"):
        summarize([Group("a", "t", "v", (1, 1), (1, 1)), Group("b", "t", "v", (1, 1, 1), (1, 1, 1))])


def test_cli_diagnose_writes_json_and_png(small_dataset, tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["diagnose", str(small_dataset), "--backend", "synthetic", "--backend-opt", "skill=2", "-k", "3", "--limit", "5", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "zero-var strict" in printed and str(out / "diagnose.png") in printed
    saved = json.loads((out / "diagnose.json").read_text())
    assert saved["questions"] == 5 and saved["backend"]["skill"] == 2.0 and saved["sampling"]["k"] == 3
    assert (out / "diagnose.png").stat().st_size > 10_000
    assert main(["diagnose", str(small_dataset), "--backend", "synthetc", "--out", str(tmp_path / "e")]) == 2
    assert "did you mean 'synthetic'" in capsys.readouterr().err
    assert main(["diagnose", str(small_dataset), "--backend", "synthetic", "-k", "1", "--out", str(tmp_path / "f")]) == 2
    assert main(["diagnose", str(small_dataset), "--backend", "synthetic", "--temperature", "0", "--out", str(tmp_path / "f")]) == 2
    assert "greedy decoding" in capsys.readouterr().err
    assert main(["diagnose", str(small_dataset), "--backend", "synthetic", "--backend-opt", "skil=2", "--out", str(tmp_path / "g")]) == 2
    assert "has no option 'skil'; did you mean 'skill'?" in capsys.readouterr().err


def test_viubench_questions_are_diagnosed_with_our_smooth_reward(clips_dir, tmp_path):
    """VIUBench scores jigsaw by exact match; the diagnostic must still see the smooth reward's variance."""
    from videossr.viubench.bench import build_bench

    build_bench(clips_dir, tmp_path / "bench", per_subset=1, workers=1, progress=False, export=False)
    target = load_target(tmp_path / "bench")
    answers = tmp_path / "answers.jsonl"
    with open(answers, "w") as fh:
        for item in target.items:  # one exact answer and one near miss per question
            fh.write(json.dumps({"id": item.id, "outputs": [item.ground_truth, _near_miss(item.groups["task"], item.ground_truth) if item.groups["task"] != "grounding" else "0.0-0.1"]}) + "\n")
    result = diagnose_target(target, ReplayBackend(answers, target=target), tmp_path / "diag", k=2, progress=False)
    rows = {(s.task, s.variant): s for s in result.stats}
    assert {v for t, v in rows if t == "jigsaw"} == {"easy", "hard", ALL} and rows[(ALL, ALL)].questions == 9
    jigsaw = rows[("jigsaw", ALL)]
    assert jigsaw.histogram == (0, 2, 0) and jigsaw.mean_strict == 0.5
    assert 0.5 < jigsaw.mean_smooth < 1.0  # the swapped answer earns partial smooth reward


@pytest.mark.slow
def test_the_tiny_model_is_diagnosed_end_to_end(small_dataset, tmp_path):
    """A real (random-weight) Qwen3-VL generating on CPU: every question gets k answers, JSON and PNG are written."""
    pytest.importorskip("transformers")
    from tiny_qwen import tiny_checkpoint_dir

    backend = get_backend("transformers", model=str(tiny_checkpoint_dir()), device="cpu", batch_size=2)
    result = diagnose(small_dataset, backend, tmp_path / "d", k=2, limit=2, max_tokens=8, progress=False)
    assert result.errors == 0 and len(result.groups) == 2 and all(g.k == 2 for g in result.groups)
    saved = json.loads((tmp_path / "d" / "diagnose.json").read_text())
    assert saved["questions"] == 2 and saved["backend"]["backend"] == "transformers"
    assert (tmp_path / "d" / "diagnose.png").is_file()
    assert diagnose(small_dataset, backend, tmp_path / "d", k=2, limit=2, max_tokens=8, progress=False).asked == 0


def test_outside_vqa_questions_are_diagnosed_with_the_targets_own_scores(clips_dir, tmp_path):
    """An outside multiple-choice JSON over the real clips: option-letter accuracy is both rewards."""
    question = "What is shown? A. a cat B. a road C. the sea D. a desk"
    (tmp_path / "vqa.json").write_text(json.dumps([{"id": f"q{i}", "video": name, "question": question, "answer": "B"}
                                                   for i, name in enumerate(["bikes", "carphone_pristine", "bigbuckbunny"])]))
    answers = {"q0": ["B", "B", "B"], "q1": ["A", "B", "C"], "q2": ["D", "D", "A"]}
    (tmp_path / "answers.jsonl").write_text("".join(json.dumps({"id": i, "outputs": o}) + "\n" for i, o in answers.items()))
    result = diagnose(tmp_path / "vqa.json", lambda target: ReplayBackend(tmp_path / "answers.jsonl", target=target), tmp_path / "d",
                      k=3, video_dir=clips_dir, progress=False)
    vqa = {(s.task, s.variant): s for s in result.stats}[("vqa", "vqa")]
    assert vqa.histogram == (1, 1, 0, 1) and vqa.zero_variance_strict == pytest.approx(2 / 3) and vqa.mean_smooth == pytest.approx(4 / 9)
    assert result.png is not None and result.png.is_file()
