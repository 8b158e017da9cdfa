"""Identity end to end: predictions lines bound to (target fingerprint, item id), replay per item,
cache keys per item when sampling, a torn vs a malformed predictions line, a corrupt cache."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3

import pytest
from eval_helpers import OPTIONS, small_bench

from videossr.backends import cache_key, get_backend
from videossr.backends.base import Request, SamplingSettings, Video
from videossr.backends.cache import ResponseCache
from videossr.cli import main
from videossr.errors import UserError
from videossr.evaluate import load_target, run_eval
from videossr.evaluate.predictions import read_predictions


def _rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _other_build(tmp_path):
    """A copy of the small bench as another build would be: same ids, other questions (here: the
    first item's answer changed), and bench.json's fingerprint recomputed the way `viubench build`
    writes it (first 16 hex of the SHA-256 of items.jsonl)."""
    other = tmp_path / "bench-other"
    shutil.copytree(small_bench(), other)
    lines = (other / "items.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["answer"] = first["answer"] + "0"
    lines[0] = json.dumps(first)
    (other / "items.jsonl").write_text("\n".join(lines) + "\n")
    meta = json.loads((other / "bench.json").read_text())
    meta["fingerprint"] = hashlib.sha256((other / "items.jsonl").read_bytes()).hexdigest()[:16]
    meta["seed"] = 1
    (other / "bench.json").write_text(json.dumps(meta))
    return other


def _answered_on_small_bench(tmp_path):
    """predictions.jsonl of an eval (replay of a foreign file) on the small bench."""
    target = load_target(small_bench())
    foreign = tmp_path / "foreign.jsonl"
    _write(foreign, [{"id": item.id, "response": item.ground_truth} for item in target.items])
    assert main(["eval", str(small_bench()), "--backend", "replay", "--replay-file", str(foreign), "--out", str(tmp_path / "a"), "--no-progress"]) == 0
    return tmp_path / "a" / "predictions.jsonl"


def test_replay_refuses_predictions_of_another_viubench_build(tmp_path, capsys):
    predictions = _answered_on_small_bench(tmp_path)
    rows = _rows(predictions)
    fingerprint = json.loads((small_bench() / "bench.json").read_text())["fingerprint"]
    assert {r["target"] for r in rows} == {f"viubench:{fingerprint}"} and {r["bench"] for r in rows} == {fingerprint}
    other = _other_build(tmp_path)
    capsys.readouterr()
    code = main(["eval", str(other), "--backend", "replay", "--replay-file", str(predictions), "--out", str(tmp_path / "b"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "VIUBench" in err and fingerprint in err
    assert not (tmp_path / "b" / "predictions.jsonl").exists()  # nothing stamped with the other build's fingerprint


def test_replay_refuses_another_target_kind_with_the_same_ids(tmp_path, capsys):
    target = load_target(small_bench())
    from_dataset = tmp_path / "dataset-preds.jsonl"
    _write(from_dataset, [{"id": item.id, "response": item.ground_truth, "target": "dataset:0123456789abcdef"} for item in target.items])
    code = main(["eval", str(small_bench()), "--backend", "replay", "--replay-file", str(from_dataset), "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "dataset:0123456789abcdef" in err and len(err.strip().splitlines()) == 1


def test_resume_refuses_a_line_of_another_target(tmp_path):
    predictions = _answered_on_small_bench(tmp_path)
    rows = _rows(predictions)
    rows[1]["target"] = "dataset:0123456789abcdef"
    _write(predictions, rows)
    target = load_target(small_bench())
    with pytest.raises(UserError, match=r"predictions.jsonl:2: answers target 'dataset:0123456789abcdef'"):
        run_eval(target, get_backend("replay", path=tmp_path / "foreign.jsonl", target=target), tmp_path / "a", progress=False)


def test_replay_gives_each_item_its_own_answer_when_video_and_question_repeat(tmp_path, clips_dir):
    # six items, one video, one question text, one true answer (B); six different replies
    question = "What does the video show?" + OPTIONS
    items = [{"id": f"q{i}", "video": "bikes.mp4", "question": question, "answer": "B"} for i in range(6)]
    (tmp_path / "same.json").write_text(json.dumps(items))
    replies = {"q0": "B", "q1": "A", "q2": "A", "q3": "B", "q4": "C", "q5": "D"}
    _write(tmp_path / "replies.jsonl", [{"id": k, "response": v} for k, v in replies.items()])
    target = load_target(tmp_path / "same.json", video_dir=clips_dir, work_dir=tmp_path / "o" / "frames")
    assert len({item.request.key() for item in target.items}) == 1  # identical requests
    report = run_eval(target, get_backend("replay", path=tmp_path / "replies.jsonl", target=target), tmp_path / "o", progress=False)
    assert {r["id"]: r["response"] for r in _rows(tmp_path / "o" / "predictions.jsonl")} == replies
    assert report["overall"]["score"] == pytest.approx(2 / 6)


def test_cache_shares_answers_between_identical_requests_only_when_greedy(tmp_path):
    frame = tmp_path / "f.jpg"
    frame.write_bytes(b"jpeg")
    video = Video(frames=(str(frame),), sample_fps=2.0)
    one, two = Request("s", ("q", video), id="item-1"), Request("s", ("q", video), id="item-2")
    identity = {"backend": "x", "model": "m"}
    greedy, sampled = SamplingSettings(), SamplingSettings(temperature=1.0, n=4)
    assert cache_key(identity, one, greedy) == cache_key(identity, two, greedy)
    assert cache_key(identity, one, sampled) != cache_key(identity, two, sampled)
    assert cache_key(identity, one, sampled) != cache_key(identity, one, SamplingSettings(temperature=1.0, n=4, top_k=20))
    assert cache_key(identity, one, greedy) != cache_key({"backend": "x", "model": "m", "content": "other weights"}, one, greedy)


def test_only_a_torn_last_line_is_dropped(tmp_path):
    path = tmp_path / "predictions.jsonl"
    good = [json.dumps({"id": str(i), "response": "x"}) for i in range(3)]
    path.write_text("\n".join(good) + "\n" + '{"id": "3", "resp')  # killed mid-write
    assert sorted(read_predictions(path)) == ["0", "1", "2"]
    assert path.read_text() == "\n".join(good) + "\n"
    path.write_text(good[0] + "\n" + "not json at all\n" + good[1] + "\n" + good[2] + "\n")
    before = path.read_text()
    with pytest.raises(UserError, match=r"predictions.jsonl:2: not a predictions line"):
        read_predictions(path)
    assert path.read_text() == before  # nothing after the bad line was cut


def test_a_malformed_middle_line_stops_the_run_and_keeps_the_file(tmp_path, capsys):
    predictions = _answered_on_small_bench(tmp_path)
    lines = predictions.read_text().splitlines()
    lines[3] = lines[3][: len(lines[3]) // 2]
    predictions.write_text("\n".join(lines) + "\n")
    before = predictions.read_text()
    foreign = tmp_path / "foreign.jsonl"
    code = main(["eval", str(small_bench()), "--backend", "replay", "--replay-file", str(foreign), "--out", str(tmp_path / "a"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "predictions.jsonl:4:" in err and predictions.read_text() == before


def test_a_corrupt_cache_is_rebuilt_with_a_warning(tmp_path, capsys):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not an sqlite database" * 100)
    cache = ResponseCache(path)
    assert len(cache) == 0 and (tmp_path / "cache.sqlite.corrupt").is_file()
    assert "warning: response cache" in capsys.readouterr().err
    cache.close()
    with sqlite3.connect(path) as db:  # a readable file that is not our cache is rebuilt too
        db.execute("DROP TABLE responses")
        db.execute("CREATE TABLE responses (other TEXT)")
    ResponseCache(path).close()
    with sqlite3.connect(path) as db:
        assert [row[1] for row in db.execute("PRAGMA table_info(responses)")] == ["key", "texts", "latency_s"]
