"""Outside benchmarks made from the built-in clips: VQA and VTG JSONs end to end."""

from __future__ import annotations

import json
import os

import pytest
from eval_helpers import CLIPS, write_vqa_json, write_vtg_json
from tiny_qwen import tiny_checkpoint_dir

from videossr.backends import get_backend
from videossr.errors import UserError
from videossr.evaluate import load_target, run_eval
from videossr.sampling import fps_frame_count


def test_vqa_json_end_to_end_with_the_tiny_model(tmp_path, clips_dir, capsys):
    from videossr.cli import main

    questions = write_vqa_json(tmp_path / "vqa.json")
    args = ["eval", str(questions), "--video-dir", str(clips_dir), "--backend", "transformers", "--model", str(tiny_checkpoint_dir()),
            "--device", "cpu", "--max-pixels", str(128 * 128), "--max-tokens", "6", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "content" in out and "motion" in out  # grouped by the JSON's category field
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["kind"] == "vqa" and report["overall"]["items"] == 8 and report["run"]["errors"] == 0
    rows = [json.loads(line) for line in (tmp_path / "o" / "predictions.jsonl").read_text().splitlines()]
    # random weights: an answer is either a parsed option letter scored against the truth, or unparsed and wrong
    for row in rows:
        parsed = row["parsed"][0]
        assert row["scores"][0] == (1.0 if parsed == row["answer"] else 0.0)
        assert parsed is None or parsed in "ABCD"
    assert report["overall"]["unparsed"] == sum(r["parsed"][0] is None for r in rows)


def test_sampling_follows_the_paper_settings(tmp_path, clips_dir):
    target = load_target(write_vqa_json(tmp_path / "vqa.json"), video_dir=clips_dir, work_dir=tmp_path / "frames", max_frames=16)
    frames = {item.id.rsplit("-", 1)[0]: item.request.videos[0] for item in target.items}
    assert len(frames["bikes"].frames) == 16  # 10 s at fps 2 = 20, capped at 16
    assert len(frames["bigbuckbunny"].frames) == fps_frame_count(132, 5.28, max_frames=16) == 10
    assert len(frames["carphone_pristine"].frames) % 2 == 0
    assert all(v.max_pixels == 512 * 512 for v in frames.values())
    from PIL import Image

    with Image.open(frames["bigbuckbunny"].frames[0]) as image:
        assert image.size[0] * image.size[1] <= 512 * 512 and image.size[0] > image.size[1]  # 1280x720 shrunk, aspect kept
    stamp = os.stat(frames["bikes"].frames[0]).st_mtime_ns
    again = load_target(write_vqa_json(tmp_path / "vqa.json"), video_dir=clips_dir, work_dir=tmp_path / "frames", max_frames=16)
    assert os.stat(frames["bikes"].frames[0]).st_mtime_ns == stamp  # sampled once, reused on a rerun
    assert [i.request.key() for i in again.items] == [i.request.key() for i in target.items]


def test_unreadable_video_is_an_item_error(tmp_path, clips_dir):
    videos = tmp_path / "videos"
    videos.mkdir()
    for clip in CLIPS:
        (videos / clip).symlink_to(clips_dir / clip)
    (videos / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    items = json.loads(write_vqa_json(tmp_path / "vqa.json").read_text())
    items.append({"id": "broken", "video": "broken.mp4", "question": "?\nA. x\nB. y", "answer": "A"})
    (tmp_path / "vqa.json").write_text(json.dumps(items))
    target = load_target(tmp_path / "vqa.json", video_dir=videos, work_dir=tmp_path / "o" / "frames")
    broken = next(i for i in target.items if i.id == "broken")
    assert broken.request is None and "cannot be read" in broken.load_error
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"id": i["id"], "response": i["answer"]}) + "\n" for i in items))
    report = run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "o", progress=False)
    assert report["run"]["errors"] == 1 and report["overall"]["missing"] == 1
    assert report["overall"]["score"] == pytest.approx(8 / 9)


def test_task_detection_and_bad_inputs(tmp_path, clips_dir):
    vtg = load_target(write_vtg_json(tmp_path / "vtg.json"), video_dir=clips_dir, work_dir=tmp_path / "f")
    assert vtg.kind == "vtg" and vtg.info["max_frames"] == 32
    mixed = [{"video": "bikes.mp4", "question": "q", "answer": "A"}, {"video": "bikes.mp4", "question": "q", "answer": "1.0-2.0"}]
    (tmp_path / "mixed.json").write_text(json.dumps(mixed))
    with pytest.raises(UserError, match="--task"):
        load_target(tmp_path / "mixed.json", video_dir=clips_dir, work_dir=tmp_path / "f")
    with pytest.raises(UserError, match="--video-dir"):
        load_target(tmp_path / "vtg.json")
    with pytest.raises(UserError, match="no answer"):
        (tmp_path / "bad.json").write_text(json.dumps([{"video": "bikes.mp4", "question": "q"}]))
        load_target(tmp_path / "bad.json", video_dir=clips_dir, work_dir=tmp_path / "f")
    with pytest.raises(UserError, match="did you mean 'vqa'"):
        load_target(tmp_path / "vtg.json", task="vqq", video_dir=clips_dir, work_dir=tmp_path / "f")


def _decoded_frames(path):
    """Every frame of a video, independently decoded with PyAV: [(seconds from the first frame, RGB array)]."""
    import av

    with av.open(str(path)) as container:
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    first = frames[0][0]
    return [(t - first, image) for t, image in frames]


def test_outside_frames_are_shown_at_their_true_times_in_the_video(tmp_path, clips_dir):
    import numpy as np
    from PIL import Image

    target = load_target(write_vqa_json(tmp_path / "vqa.json"), video_dir=clips_dir, work_dir=tmp_path / "frames")
    video = next(i for i in target.items if i.id == "bikes-what").request.videos[0]
    decoded = _decoded_frames(clips_dir / "bikes.mp4")
    assert len(video.frames) == 20 and len(decoded) == 250  # 10 s at 25 fps, fps 2
    times = np.array([t for t, _ in decoded])
    for i, frame in enumerate(video.frames):
        shown = i / video.sample_fps  # what every backend shows for frame i
        with Image.open(frame) as image:
            kept = np.asarray(image.convert("RGB"), dtype=float)
        diffs = [np.abs(kept - image).mean() for _, image in decoded]
        best = int(np.argmin(diffs))  # the source frame this JPEG is
        assert abs(times[best] - shown) < 1e-6, (i, times[best], shown)
    assert (len(video.frames) - 1) / video.sample_fps <= times[-1]  # never past the last frame


def test_the_time_axis_reaches_every_backend(tmp_path, clips_dir, monkeypatch):
    from videossr.backends.openai import OpenAIBackend

    # only the request bodies are looked at: the backend's /v1/models probe answers as a vLLM server would
    monkeypatch.setattr(OpenAIBackend, "_models", lambda self, index: [{"id": "m", "owned_by": "vllm"}])
    target = load_target(write_vqa_json(tmp_path / "vqa.json"), video_dir=clips_dir, work_dir=tmp_path / "frames")
    item = next(i for i in target.items if i.id == "bikes-what")
    video = item.request.videos[0]
    meta = json.loads((tmp_path / "frames" / "bikes.mp4" / "meta.json").read_text())
    pts = meta["axis"]["pts_seconds"]  # the kept frames' own presentation times in the video
    assert meta["axis"]["axis_error_s"] < 1e-6
    # vLLM video mode: fps = sample_fps, frame index i -> i / fps = the frame's time in the video
    body = OpenAIBackend(model="m", base_url="http://127.0.0.1:9/v1").payload(item.request)
    fps = body["extra_body"]["media_io_kwargs"]["video"]["fps"]
    assert [round(i / fps, 6) for i in range(len(pts))] == pytest.approx(pts, abs=1e-6)
    # frames mode: each image after its true time as text
    frames_mode = OpenAIBackend(model="m", base_url="http://127.0.0.1:9/v1", video_mode="frames").payload(item.request)
    texts = [p["text"] for p in frames_mode["messages"][-1]["content"] if p["type"] == "text" and p["text"].endswith("seconds>")]
    assert texts == [f"<{t:.1f} seconds>" for t in pts]
    # transformers: the processor's timestamps (mean of each pair of frames) are the true times
    backend = get_backend("transformers", model=str(tiny_checkpoint_dir()), max_pixels=128 * 128, device="cpu", dtype="float32")
    try:
        prompt = backend.render(item.request)
    finally:
        backend.close()
    stamps = [float(s) for s in __import__("re").findall(r"<([\d.]+) seconds>", prompt)]
    assert stamps == [round((pts[2 * j] + pts[2 * j + 1]) / 2, 1) for j in range(len(pts) // 2)]
    assert video.sample_fps == pytest.approx(25 / 13)  # frames 13 source frames apart (0.52 s), not the old 2.0


def test_vqa_truths_are_read_as_letters_and_an_unreadable_one_is_reported(tmp_path, clips_dir):
    question = "What is shown?\nA. x\nB. y\nC. z"
    truths = {"plain": "B", "lower": "b", "with-text": "B. y", "paren": "(B)", "text-only": "y", "bad": "maybe", "not-an-option": "E"}
    items = [{"id": k, "video": "bikes.mp4", "question": question, "answer": v} for k, v in truths.items()]
    (tmp_path / "q.json").write_text(json.dumps(items))
    target = load_target(tmp_path / "q.json", task="vqa", video_dir=clips_dir, work_dir=tmp_path / "o" / "frames")
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"id": k, "response": "B"}) + "\n" for k in truths))
    report = run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "o", progress=False)
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "o" / "predictions.jsonl").read_text().splitlines())}
    for good in ("plain", "lower", "with-text", "paren", "text-only"):
        assert rows[good]["scores"] == [1.0] and rows[good]["answer"] == "B", good
    for bad in ("bad", "not-an-option"):
        assert rows[bad]["scores"] == [] and "names no option" in rows[bad]["error"], bad
    assert report["run"]["errors"] == 2 and report["overall"]["missing"] == 2
    (tmp_path / "t.json").write_text(json.dumps([{"id": "ok", "video": "bikes.mp4", "question": "When?", "answer": "1.0-2.0"},
                                                 {"id": "bad", "video": "bikes.mp4", "question": "When?", "answer": "soon"}]))
    vtg = load_target(tmp_path / "t.json", task="vtg", video_dir=clips_dir, work_dir=tmp_path / "o" / "frames")
    assert [i.load_error is None for i in vtg.items] == [True, False] and "start-end" in vtg.items[1].load_error


@pytest.mark.parametrize("name", ["../outside/secret.mp4", "sub/../../secret.mp4", "/abs/secret.mp4"])
def test_a_video_outside_the_video_dir_is_refused_before_anything_is_read(tmp_path, clips_dir, name):
    videos, outside = tmp_path / "videos", tmp_path / "outside"
    videos.mkdir()
    outside.mkdir()
    (outside / "secret.mp4").write_bytes((clips_dir / "bikes.mp4").read_bytes())
    if name.startswith("/"):
        name = str(outside / "secret.mp4")
    (videos / "ok.mp4").symlink_to(clips_dir / "bikes.mp4")
    items = [{"video": "ok.mp4", "question": "?\nA. x\nB. y", "answer": "A"}, {"video": name, "question": "?\nA. x\nB. y", "answer": "A"}]
    (tmp_path / "q.json").write_text(json.dumps(items))
    with pytest.raises(UserError, match="leads outside --video-dir"):
        load_target(tmp_path / "q.json", video_dir=videos, work_dir=tmp_path / "o" / "frames")
    assert not (tmp_path / "o").exists()  # nothing sampled, not even the good video


def test_symlinks_inside_the_video_dir_are_followed(tmp_path, clips_dir):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "linked.mp4").symlink_to(clips_dir / "bikes.mp4")  # the folder is the user's: its links are followed
    (tmp_path / "q.json").write_text(json.dumps([{"video": "linked.mp4", "question": "?\nA. x\nB. y", "answer": "A"}]))
    target = load_target(tmp_path / "q.json", video_dir=videos, work_dir=tmp_path / "o" / "frames")
    assert target.items[0].request is not None and len(target.items[0].request.videos[0].frames) == 20
