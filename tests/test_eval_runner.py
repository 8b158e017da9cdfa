"""The runner on real targets with the replay backend: reports, resume, cache, n outputs, CLI."""

from __future__ import annotations

import json

import pytest
from eval_helpers import small_bench, small_dataset

from videossr.backends import get_backend
from videossr.backends.base import Backend, Generation, SamplingSettings
from videossr.errors import UserError
from videossr.evaluate import load_target, run_eval
from videossr.rewards import compute


def _rows(out) -> list[dict]:
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]


def _write(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


class CountingBackend(Backend):
    """Answers every request with its ground truth looked up by request key; counts what it was asked."""

    name = "counting"

    def __init__(self, answers: dict):
        self.answers, self.asked = answers, []

    def identity(self) -> dict:
        return {"backend": self.name}

    def generate_iter(self, requests, settings: SamplingSettings):
        for i, request in enumerate(requests):
            self.asked.append(request.key())
            yield i, Generation(texts=(self.answers[request.key()],) * settings.n)


def test_dataset_report_matches_rewards(tmp_path):
    target = load_target(small_dataset())
    assert len(target.items) == 16 and all(item.request.videos for item in target.items)
    responses = {item.id: (item.ground_truth if k % 2 == 0 else "no idea") for k, item in enumerate(target.items)}
    _write(tmp_path / "replay.jsonl", [{"sample_id": k, "response": v} for k, v in responses.items()])
    report = run_eval(target, get_backend("replay", path=tmp_path / "replay.jsonl", target=target), tmp_path / "out", progress=False)
    expected = [compute(item.payload, responses[item.id], item.ground_truth) for item in target.items]
    overall = report["overall"]
    assert overall["score"] == pytest.approx(sum(r.score for r in expected) / 16)
    assert overall["strict"] == pytest.approx(sum(r.strict for r in expected) / 16) == pytest.approx(0.5)
    assert overall["format_failure_rate"] == pytest.approx(0.5)
    tasks = {g["group"]["task"] for g in report["groups"]}
    assert tasks == {"grounding", "counting", "jigsaw"}
    rows = _rows(tmp_path / "out")
    assert [r["id"] for r in rows] == [item.id for item in target.items]  # target order
    assert all(r["sample_id"] == r["id"] for r in rows)  # `videossr score` reads these lines as they are


def test_resume_skips_finished_and_retries_errors(tmp_path):
    target = load_target(small_dataset())
    replay = tmp_path / "replay.jsonl"
    half = target.items[:10]
    _write(replay, [{"id": item.id, "response": item.ground_truth} for item in half])
    backend = get_backend("replay", path=replay, target=target)
    first = run_eval(target, backend, tmp_path / "out", progress=False)
    assert first["run"]["errors"] == 6 and first["overall"]["missing"] == 6
    assert sum(1 for r in _rows(tmp_path / "out") if r["error"]) == 6
    _write(replay, [{"id": item.id, "response": item.ground_truth} for item in target.items])
    second = run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "out", progress=False)
    assert second["run"]["answered_this_run"] == 6 and second["run"]["asked_backend"] == 6  # only the failed ones
    assert second["run"]["errors"] == 0 and second["overall"]["strict"] == 1.0
    assert len(_rows(tmp_path / "out")) == 16  # one line per item after the run


def test_torn_last_line_is_dropped_and_asked_again(tmp_path):
    target = load_target(small_dataset(), limit=4)
    answers = {item.request.key(): item.ground_truth for item in target.items}
    run_eval(target, CountingBackend(answers), tmp_path / "out", progress=False, cache=False)
    path = tmp_path / "out" / "predictions.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + lines[3][:25])  # as if killed while writing the 4th line
    backend = CountingBackend(answers)
    report = run_eval(target, backend, tmp_path / "out", progress=False, cache=False)
    assert backend.asked == [target.items[3].request.key()]
    assert report["overall"]["strict"] == 1.0 and len(_rows(tmp_path / "out")) == 4


def test_cache_means_a_second_task_never_asks_again(tmp_path):
    target = load_target(small_dataset(), limit=5)
    answers = {item.request.key(): item.ground_truth for item in target.items}
    cache = tmp_path / "shared.sqlite"
    first = CountingBackend(answers)
    run_eval(target, first, tmp_path / "a", progress=False, cache=cache)
    second = CountingBackend(answers)
    report = run_eval(target, second, tmp_path / "b", progress=False, cache=cache)
    assert len(first.asked) == 5 and second.asked == []
    assert report["run"]["asked_backend"] == 0 and all(r["cached"] for r in _rows(tmp_path / "b"))
    other = CountingBackend(answers)  # other sampling settings are other cache keys
    run_eval(target, other, tmp_path / "c", progress=False, cache=cache, n=2, temperature=0.5)
    assert len(other.asked) == 5


def test_n_outputs_are_all_kept_and_scored(tmp_path):
    target = load_target(small_dataset(), limit=3)
    replay = tmp_path / "replay.jsonl"
    _write(replay, [{"id": item.id, "outputs": [item.ground_truth, "x", item.ground_truth, "y"]} for item in target.items])
    report = run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "out", n=4, temperature=1.0, progress=False)
    rows = _rows(tmp_path / "out")
    assert all(len(r["outputs"]) == 4 and r["strict"] == [1.0, 0.0, 1.0, 0.0] and r["format_ok"][0] for r in rows)
    assert report["overall"]["strict"] == pytest.approx(0.5)
    with pytest.raises(UserError, match="other sampling settings"):
        run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "out", n=1, progress=False)
    short = run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "short", n=5, temperature=1.0, progress=False)
    assert short["run"]["errors"] == 3  # replay holds 4 outputs, 5 asked: item errors, not a crash


def test_viubench_target_scores_like_the_viubench_scorer(tmp_path):
    from videossr.viubench import SUBSETS, score_predictions

    bench = small_bench()
    target = load_target(bench)
    assert len(target.items) == 9 and {item.groups["subset"] for item in target.items} == set(SUBSETS)
    jigsaw = next(item for item in target.items if item.groups["subset"] == "jigsaw_hard")
    assert len(jigsaw.request.videos) == 8 and jigsaw.request.text.startswith("Clip 1: <video>")
    _write(tmp_path / "replay.jsonl", [{"id": item.id, "response": item.ground_truth if k % 3 else "3-4"} for k, item in enumerate(target.items)])
    report = run_eval(target, get_backend("replay", path=tmp_path / "replay.jsonl", target=target), tmp_path / "out", progress=False)
    theirs = score_predictions(tmp_path / "out" / "predictions.jsonl", bench)  # accepts our lines as they are (version + bench checked)
    assert report["overall"] == pytest.approx(100 * theirs.overall)
    assert "Overall" in target.format_table(report) and "jigsaw_hard" in target.format_table(report)


def test_cli_eval_prints_table_and_exit_codes(tmp_path, capsys):
    from videossr.cli import main

    target = load_target(small_bench())
    _write(tmp_path / "replay.jsonl", [{"id": item.id, "response": item.ground_truth} for item in target.items])
    args = ["eval", str(small_bench()), "--backend", "replay", "--replay-file", str(tmp_path / "replay.jsonl"), "--out", str(tmp_path / "o"), "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "VIUBench" in out and "100.0" in out and "9 items, 0 errors" in out
    assert main(args) == 0 and "0 answered this run" in capsys.readouterr().out  # rerun: nothing left to ask
    assert main(["eval", str(small_bench()), "--backend", "replya", "--out", str(tmp_path / "x")]) == 2
    assert "did you mean 'replay'" in capsys.readouterr().err
    (tmp_path / "empty.jsonl").write_text("")
    empty = ["eval", str(small_bench()), "--backend", "replay", "--replay-file", str(tmp_path / "empty.jsonl"), "--out", str(tmp_path / "e"), "--no-progress"]
    assert main(empty) == 1 and "every item failed" in capsys.readouterr().err


def test_backend_names_and_options_are_checked(tmp_path):
    from videossr.backends import backend_names

    assert {"transformers", "openai", "replay"} <= set(backend_names())
    with pytest.raises(UserError, match="did you mean 'replay'"):
        get_backend("replya")
    with pytest.raises(UserError, match="no option 'pth'; did you mean 'path'"):
        get_backend("replay", pth=tmp_path / "x.jsonl")
    with pytest.raises(UserError, match="replay file not found"):
        get_backend("replay", path=tmp_path / "x.jsonl")
