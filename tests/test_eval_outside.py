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
