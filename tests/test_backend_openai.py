"""The openai backend against a REAL OpenAI-compatible server (`transformers serve` with the tiny
Qwen3-VL on CPU), and its fault behaviour against tests/eval_fake_server.py (the one hand-written
fake: a server that answers 429/500, stalls, dies or counts requests on cue)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from eval_fake_server import FakeChatServer, request_key
from eval_helpers import small_bench, write_vqa_json, write_vtg_json
from tiny_qwen import tiny_checkpoint_dir

from videossr.backends import get_backend
from videossr.evaluate import load_target, run_eval

SECRET = "sk-test-DO-NOT-LEAK-4f1c9a"
SMALL_PIXELS = 128 * 128


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]


def _assert_no_secret(*roots: Path, texts: tuple[str, ...] = ()) -> None:
    for root in roots:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            assert SECRET.encode() not in path.read_bytes(), path
    for text in texts:
        assert SECRET not in text


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    """`transformers serve TINY --device cpu` on a free loopback port; yields (base_url, model, log path)."""
    if shutil.which("transformers") is None:
        pytest.fail("the transformers CLI is missing: pip install -e '.[test]' (transformers[serving])")
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    port = _free_port()
    model = str(tiny_checkpoint_dir())
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with open(log, "wb") as fh:
        proc = subprocess.Popen(["transformers", "serve", model, "--device", "cpu", "--port", str(port), "--host", "127.0.0.1"],
                                stdout=fh, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"transformers serve did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", model, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_viubench_through_transformers_serve_resumes_and_keeps_the_key_secret(serve, tmp_path, capsys, monkeypatch):
    from videossr.cli import main

    url, model, log = serve
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    args = ["eval", str(small_bench()), "--backend", "openai", "--base-url", url, "--model", model, "--video-mode", "frames",
            "--max-pixels", str(SMALL_PIXELS), "--max-tokens", "6", "--concurrency", "2", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main(args + ["--limit", "2"]) == 0
    first = capsys.readouterr()
    assert main(args + ["--limit", "3"]) == 0
    second = capsys.readouterr()
    assert "VIUBench" in second.out and "1 answered this run (1 asked the backend)" in second.out
    rows = _rows(tmp_path / "o")
    assert len(rows) == 3 and all(r["error"] is None and isinstance(r["outputs"][0], str) for r in rows)
    _assert_no_secret(tmp_path, log, texts=(first.out, first.err, second.out, second.err))


@pytest.mark.slow
def test_outside_vtg_json_through_transformers_serve(serve, tmp_path, clips_dir):
    url, model, _ = serve
    target = load_target(write_vtg_json(tmp_path / "vtg.json"), video_dir=clips_dir, work_dir=tmp_path / "o" / "frames")
    backend = get_backend("openai", base_url=url, model=model, video_mode="frames", max_pixels=SMALL_PIXELS, api_key=SECRET)
    report = run_eval(target, backend, tmp_path / "o", max_tokens=8, progress=False)
    assert report["kind"] == "vtg" and report["overall"]["items"] == 4 and report["run"]["errors"] == 0
    assert {"r@0.3", "r@0.5", "r@0.7"} <= set(report["overall"])
    rows = _rows(tmp_path / "o")
    assert all(r["parsed"][0] is None or "-" in r["parsed"][0] for r in rows)  # random weights: parsed or counted unparsed
    assert report["overall"]["unparsed"] == sum(r["parsed"][0] is None for r in rows)


def test_transformers_serve_samples_at_temperature_1_although_the_checkpoint_says_greedy(serve, tmp_path):
    # the tiny checkpoint's generation_config has do_sample false (the library default), which
    # `transformers serve` keeps when a request only sets temperature; our generation_config field wins
    url, model, _ = serve
    target = load_target(small_bench(), limit=1)
    backend = get_backend("openai", base_url=url, model=model, video_mode="frames", max_pixels=SMALL_PIXELS, concurrency=1, api_key=SECRET,
                          chat_template_kwargs={"enable_thinking": False})
    report = run_eval(target, backend, tmp_path / "o", n=3, temperature=1.0, max_tokens=6, seed=5, cache=False, progress=False)
    [row] = _rows(tmp_path / "o")
    assert report["run"]["errors"] == 0 and len(row["outputs"]) == 3
    assert len(set(row["outputs"])) > 1  # sampled, not three greedy copies
    assert report["run"]["sampling"]["top_p"] == 1.0 and report["run"]["sampling"]["do_sample"] is True


def test_video_mode_on_a_server_without_it_is_an_item_error(serve, tmp_path):
    # transformers serve refuses vLLM's media_io_kwargs (HTTP 422): recorded per item, not retried, run ends
    url, model, _ = serve
    target = load_target(small_bench(), limit=2)
    backend = get_backend("openai", base_url=url, model=model, video_mode="video", backoff_s=0.01, api_key=SECRET)
    report = run_eval(target, backend, tmp_path / "o", max_tokens=4, progress=False)
    rows = _rows(tmp_path / "o")
    assert report["run"]["errors"] == 2 and all("422" in r["error"] and "use --video-mode frames" in r["error"] for r in rows)
    _assert_no_secret(tmp_path)


# ---- the misbehaving test server ------------------------------------------------------------

@pytest.fixture
def fake():
    servers = []

    def start(**options) -> FakeChatServer:
        servers.append(FakeChatServer(**options).start())
        return servers[-1]

    yield start
    for server in servers:
        try:
            server.stop()
        except OSError:
            pass


@pytest.fixture(scope="module")
def vqa(tmp_path_factory, clips_dir):
    tmp = tmp_path_factory.mktemp("vqa")
    return load_target(write_vqa_json(tmp / "vqa.json"), video_dir=clips_dir, work_dir=tmp / "frames")


def test_video_mode_sends_every_frame_with_its_fps(fake, vqa):
    server = fake()
    backend = get_backend("openai", base_url=server.url, video_mode="video", api_key=SECRET)
    assert backend.model == "fake-model"  # the server's first model when --model is not given
    assert backend.identity()["served"] == {"id": "fake-model"} and backend.identity()["base_urls"] == [server.url]  # what the server reports
    item = next(i for i in vqa.items if i.id == "bikes-what")
    [generation] = backend.generate([item.request])
    assert generation.texts == ("The answer is " + "ABCD"[int(request_key(server.bodies[0]), 16) % 4],)
    body = server.bodies[0]
    video_part = next(p for p in body["messages"][-1]["content"] if p["type"] == "video_url")
    prefix, payload = video_part["video_url"]["url"].split(",", 1)
    assert prefix == "data:video/jpeg;base64"
    frames = item.request.videos[0].frames
    assert [base64.b64decode(b) for b in payload.split(",")] == [Path(f).read_bytes() for f in frames]
    assert body["media_io_kwargs"] == {"video": {"num_frames": -1, "fps": item.request.videos[0].sample_fps}}
    assert server.auth_headers[0] == f"Bearer {SECRET}"  # the key reaches the server, and nothing else


def test_frames_mode_puts_a_timestamp_before_each_image(fake, vqa):
    server = fake()
    backend = get_backend("openai", base_url=server.url, model="fake-model", video_mode="frames", api_key=SECRET)
    item = next(i for i in vqa.items if i.id == "bikes-what")
    backend.generate([item.request])
    content = server.bodies[0]["messages"][-1]["content"]
    images = [k for k, p in enumerate(content) if p["type"] == "image_url"]
    assert len(images) == 20 and "media_io_kwargs" not in server.bodies[0]
    assert [content[k - 1]["text"] for k in images[:3]] == ["<0.0 seconds>", "<0.5 seconds>", "<1.0 seconds>"]


def test_sampling_settings_and_template_kwargs_are_sent(fake, vqa):
    server = fake()
    backend = get_backend("openai", base_url=server.url, model="fake-model", video_mode="frames", api_key=SECRET,
                          chat_template_kwargs={"enable_thinking": False})
    backend.generate([vqa.items[0].request], n=1, temperature=0.7, top_p=0.9, top_k=20, repetition_penalty=1.1, max_tokens=9, seed=4)
    body = server.bodies[0]
    assert (body["temperature"], body["top_p"], body["top_k"], body["repetition_penalty"], body["max_tokens"]) == (0.7, 0.9, 20, 1.1, 9)
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert json.loads(body["generation_config"]) == {"do_sample": True, "temperature": 0.7, "top_p": 0.9, "top_k": 20, "num_beams": 1,
                                                     "repetition_penalty": 1.1, "max_new_tokens": 9}


def test_retries_429_500_and_timeouts_then_succeeds(fake, vqa):
    server = fake(faults=[429, 500, "slow"], slow_s=5.0)
    backend = get_backend("openai", base_url=server.url, model="fake-model", timeout_s=2.0, backoff_s=0.01, concurrency=1, api_key=SECRET)
    [generation] = backend.generate([vqa.items[0].request])
    assert generation.ok and generation.texts[0].startswith("The answer is")
    # the /v1/models probe when the backend was built, then 429, 500, timed out, answered
    assert server.statuses[:3] == [200, 429, 500] and len(server.bodies) == 4


def test_errors_beyond_retries_are_item_errors_and_the_run_goes_on(fake, vqa, tmp_path):
    server = fake(faults=[500] * 3)
    backend = get_backend("openai", base_url=server.url, model="fake-model", max_retries=2, backoff_s=0.01, concurrency=1, api_key=SECRET)
    report = run_eval(vqa, backend, tmp_path / "o", progress=False)
    rows = _rows(tmp_path / "o")
    assert report["run"]["errors"] == 1 and "HTTP 500" in rows[0]["error"] and all(r["error"] is None for r in rows[1:])
    _assert_no_secret(tmp_path)
    report = run_eval(vqa, backend, tmp_path / "o", progress=False)  # rerun: only the failed item is asked
    assert report["run"]["asked_backend"] == 1 and report["run"]["errors"] == 0


def test_server_dying_mid_run_stops_the_run_keeps_finished_work_then_resume(fake, vqa, tmp_path):
    from videossr.backends.base import BackendUnreachable

    server = fake(faults=[None, None, "die"])
    backend = get_backend("openai", base_url=server.url, model="fake-model", max_retries=1, backoff_s=0.01, concurrency=1, timeout_s=2, api_key=SECRET)
    with pytest.raises(BackendUnreachable, match="3 requests in a row"):  # not hours of retries over every item left
        run_eval(vqa, backend, tmp_path / "o", progress=False)
    rows = _rows(tmp_path / "o")
    assert sum(r["error"] is None for r in rows) == 2  # the two answered before it died are kept
    assert all("Connection" in r["error"] or "connection" in r["error"] for r in rows if r["error"])
    revived = fake(port=server.port)
    report = run_eval(vqa, backend, tmp_path / "o", progress=False)
    assert report["run"]["errors"] == 0 and report["run"]["asked_backend"] == len(vqa.items) - 2
    assert sum(revived.counts.values()) == len(vqa.items) - 2


def test_requests_spread_over_base_urls(fake, vqa):
    one, two = fake(), fake()
    backend = get_backend("openai", base_url=[one.url, two.url], model="fake-model", concurrency=4, api_key=SECRET)
    generations = backend.generate([item.request for item in vqa.items])
    assert all(g.ok for g in generations)
    assert sum(one.counts.values()) == sum(two.counts.values()) == len(vqa.items) // 2


@pytest.mark.slow
def test_kill_9_then_rerun_gives_the_same_predictions_and_asks_no_finished_item_again(fake, tmp_path, clips_dir):
    questions = write_vqa_json(tmp_path / "vqa.json")
    slow = fake(delay_s=0.4)
    env = {**os.environ, "OPENAI_API_KEY": SECRET}

    def eval_cmd(server, out):
        return [sys.executable, "-m", "videossr", "eval", str(questions), "--video-dir", str(clips_dir), "--backend", "openai", "--base-url", server.url,
                "--model", "fake-model", "--concurrency", "2", "--out", str(out), "--no-progress"]

    proc = subprocess.Popen(eval_cmd(slow, tmp_path / "killed"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    predictions = tmp_path / "killed" / "predictions.jsonl"
    deadline = time.monotonic() + 120
    while not (predictions.exists() and len(predictions.read_text().splitlines()) >= 3):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before_kill = {r["request_key"] for r in _rows(tmp_path / "killed")}
    rerun = subprocess.run(eval_cmd(slow, tmp_path / "killed"), env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    whole = subprocess.run(eval_cmd(fake(delay_s=0.0), tmp_path / "whole"), env=env, capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr[-2000:]

    def comparable(out):
        return [{k: v for k, v in row.items() if k not in ("latency_s", "cached")} for row in _rows(out)]

    assert comparable(tmp_path / "killed") == comparable(tmp_path / "whole") and len(comparable(tmp_path / "whole")) == 8
    # server side (counted per request content): every item answered before the kill was asked once;
    # only requests in flight at the kill (at most --concurrency 2) were asked again by the rerun
    by_content = {request_key(body): body for body in slow.bodies}
    recorded_keys = {r["request_key"]: r for r in _rows(tmp_path / "killed")}
    assert len(by_content) == len(recorded_keys) == 8
    asked = slow.counts
    assert sum(asked.values()) <= 8 + 2 and sum(1 for c in asked.values() if c > 1) <= 2 and max(asked.values()) <= 2
    assert len(finished_before_kill) >= 3 and finished_before_kill <= set(recorded_keys)
    _assert_no_secret(tmp_path, texts=(rerun.stdout, rerun.stderr, whole.stdout, whole.stderr))
