"""Faults: a server that is down or stops answering, all-failed runs, bad option values, and the
diagnose warning for k identical texts. Servers that fail on cue are tests/eval_fake_server.py."""

from __future__ import annotations

import json
import socket
import time

import pytest
from eval_fake_server import FakeChatServer
from eval_helpers import small_bench, write_vqa_json
from tiny_qwen import tiny_checkpoint_dir

from videossr.backends import get_backend
from videossr.backends.base import BackendUnreachable
from videossr.cli import main
from videossr.evaluate import load_target, run_eval


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse refusing a value
        return exc.code


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_down_server_is_one_line_and_exit_1(tmp_path, capsys):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    bench = small_bench()  # built before the clock starts
    began = time.monotonic()
    code = main(["eval", str(bench), "--backend", "openai", "--base-url", url, "--model", "m", "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and url in err
    assert time.monotonic() - began < 20


def test_first_requests_all_failing_to_connect_stop_the_run(tmp_path, clips_dir):
    server = FakeChatServer().start()
    backend = get_backend("openai", base_url=server.url, model="fake-model", backoff_s=0.01, max_retries=2, concurrency=1, api_key="x")
    target = load_target(write_vqa_json(tmp_path / "vqa.json"), video_dir=clips_dir, work_dir=tmp_path / "o" / "frames")
    report = run_eval(target, backend, tmp_path / "o", progress=False)
    assert report["run"]["errors"] == 0  # the server answered: all finished
    server.stop()
    began = time.monotonic()
    with pytest.raises(BackendUnreachable, match=f"3 requests in a row to {server.url} failed to connect"):
        run_eval(target, backend, tmp_path / "o2", progress=False)
    assert time.monotonic() - began < 20


def test_a_run_where_every_item_failed_says_so(tmp_path, capsys):
    empty = tmp_path / "none.jsonl"
    empty.write_text(json.dumps({"id": "not-an-item", "response": "A"}) + "\n")
    code = main(["eval", str(small_bench()), "--backend", "replay", "--replay-file", str(empty), "--out", str(tmp_path / "o"), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1 and "no item was answered: all 9 failed" in captured.out and "Overall" not in captured.out
    assert "0 answered this run" in captured.out
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["run"]["answered"] == 0 and report["run"]["answered_this_run"] == 0 and report["run"]["failed_this_run"] == 9


@pytest.mark.parametrize("option", [["--retries", "-1"], ["--timeout", "-5"], ["--timeout", "0"], ["--timeout", "nan"], ["--timeout", "inf"],
                                    ["--temperature", "nan"], ["--top-p", "0"], ["--top-k", "0"], ["--repetition-penalty", "-1"],
                                    ["--chat-template-kwargs", "enable_thinking"]])
def test_bad_option_values_are_one_line_and_exit_2(tmp_path, capsys, option):
    code = _exit_code(["eval", str(small_bench()), "--backend", "openai", "--out", str(tmp_path / "o"), *option])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and option[0] in err


@pytest.mark.parametrize("backend", [["synthetic", "--backend-opt", "skill=abc"], ["openai", "--model", "m", "--backend-opt", "concurrency=abc"],
                                     ["openai", "--model", "m", "--backend-opt", "backoff_s=-1"], ["transformers", "--model", "TINY", "--backend-opt", "batch_size=abc"],
                                     ["transformers", "--model", "TINY", "--device", "cuda:99"], ["transformers", "--model", "TINY", "--device", "tpu9"]])
def test_bad_backend_values_are_one_line_and_exit_2(tmp_path, capsys, backend):
    backend = [str(tiny_checkpoint_dir()) if part == "TINY" else part for part in backend]
    bench = small_bench()
    capsys.readouterr()  # building the inputs is not the command's output
    code = _exit_code(["eval", str(bench), "--backend", *backend, "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert not (tmp_path / "o" / "predictions.jsonl").exists()


def test_diagnose_warns_when_the_k_answers_are_identical(tmp_path):
    from videossr.diagnose import diagnose

    target = load_target(small_bench())
    replies = tmp_path / "same.jsonl"
    replies.write_text("".join(json.dumps({"id": item.id, "outputs": [item.ground_truth] * 4}) + "\n" for item in target.items))
    result = diagnose(small_bench(), lambda t: get_backend("replay", path=replies, target=t), tmp_path / "d", k=4, temperature=1.0, progress=False, plot=False)
    data = json.loads((tmp_path / "d" / "diagnose.json").read_text())
    assert data["identical_texts_share"] == 1.0 and len(data["warnings"]) == 1 and "not sampling" in data["warnings"][0]
    assert "warning: 100% of the questions got 4 identical answers" in result.summary_text()
    assert data["sampling"]["top_p"] == 1.0 and data["sampling"]["do_sample"] is True
    varied = tmp_path / "varied.jsonl"
    varied.write_text("".join(json.dumps({"id": item.id, "outputs": [item.ground_truth, "x", "y", "z"]}) + "\n" for item in target.items))
    diagnose(small_bench(), lambda t: get_backend("replay", path=varied, target=t), tmp_path / "d2", k=4, temperature=1.0, progress=False, plot=False)
    assert json.loads((tmp_path / "d2" / "diagnose.json").read_text())["warnings"] == []

