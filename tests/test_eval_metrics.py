"""VQA letter extraction and VTG metrics against hand-computed cases (no model needed)."""

from __future__ import annotations

import json

import pytest

from videossr.evaluate.metrics import extract_letter, interval_iou, option_letters, parse_truth_interval, predicted_interval, to_source_seconds

ABCD = "ABCD"


@pytest.mark.parametrize("text, letter", [
    ("C", "C"), ("(C)", "C"), ("[C]", "C"), ("C.", "C"), ("C. a man on the phone", "C"), ("C) a man", "C"), ("(C) a man", "C"),
    ("C: a man", "C"), ("  C  ", "C"), ("The answer is C", "C"), ("The answer is (C).", "C"), ("Answer: C", "C"),
    ("The correct option is B.", "B"), ("<answer>D</answer>", "D"), ("<think>A or B?</think>B", "B"),
])
def test_letters_read(text, letter):
    assert extract_letter(text, ABCD) == letter


@pytest.mark.parametrize("text", [
    "A dog runs", "c", "I think it is C", "The answer is C or D", "E", "The answer is E", "", "   ", "CD", "42", "A man. The answer is B",
])
def test_anything_else_is_unparsed(text):
    assert extract_letter(text, ABCD) is None


def test_option_letters_come_from_the_question():
    assert option_letters("Which?\nA. x\nB. y\nC. z") == "ABC"
    assert option_letters("Which?\n(A) x\n(B) y") == "AB"
    assert option_letters("no options listed") == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert extract_letter("D", option_letters("Which?\nA. x\nB. y\nC. z")) is None


def test_interval_iou_hand_computed():
    assert interval_iou((2.0, 4.0), (3.0, 5.0)) == pytest.approx(1 / 3)
    assert interval_iou((0.0, 10.0), (2.0, 4.0)) == pytest.approx(0.2)
    assert interval_iou((1.0, 2.0), (3.0, 4.0)) == 0.0
    assert interval_iou((3.0, 5.0), (3.0, 5.0)) == 1.0
    assert interval_iou(None, (3.0, 5.0)) == 0.0


def test_truth_and_prediction_parsing():
    assert parse_truth_interval("3.2-8.75") == (3.2, 8.75)
    assert parse_truth_interval("[3, 8]") == (3.0, 8.0)
    with pytest.raises(ValueError):
        parse_truth_interval("8-3")
    assert predicted_interval("from 2.0 to 4.0 seconds") == (2.0, 4.0)
    assert predicted_interval("2.0-4.0") == (2.0, 4.0)
    assert predicted_interval("<answer>12.5 - 20</answer>") == (12.5, 20.0)
    assert predicted_interval("no idea") is None
    assert predicted_interval("4.0-2.0") is None  # start after end


def test_model_time_maps_to_source_seconds():
    pts = (0.0, 0.5, 1.0, 1.5)  # kept frames' source times; the model sees frame i at i / 2 fps
    assert to_source_seconds(0.0, 2.0, pts) == 0.0
    assert to_source_seconds(0.75, 2.0, pts) == pytest.approx(0.75)
    pts = (0.0, 0.6, 1.2, 1.8)  # frames 0.6 s apart shown at 2 fps (0.5 s apart)
    assert to_source_seconds(1.0, 2.0, pts) == pytest.approx(1.2)
    assert to_source_seconds(0.25, 2.0, pts) == pytest.approx(0.3)
    assert to_source_seconds(2.0, 2.0, pts) == pytest.approx(2.4)  # past the last frame: last step goes on


def _vtg_run(tmp_path, clips_dir, responses: dict):
    from eval_helpers import write_vtg_json

    from videossr.backends import get_backend
    from videossr.evaluate import load_target, run_eval

    target = load_target(write_vtg_json(tmp_path / "vtg.json"), video_dir=clips_dir, work_dir=tmp_path / "out" / "frames")
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"id": k, "response": v}) + "\n" for k, v in responses.items()))
    return target, run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "out", progress=False)


def test_vtg_report_counts_unparsed_as_zero(tmp_path, clips_dir):
    # model-time answers chosen so that, mapped to source seconds, IoU is known by hand
    from eval_helpers import write_vtg_json

    from videossr.evaluate import load_target

    probe = load_target(write_vtg_json(tmp_path / "probe.json"), video_dir=clips_dir, work_dir=tmp_path / "out" / "frames")
    items = {item.id: item for item in probe.items}
    truth, fps, pts = items["bikes"].payload
    assert truth == (2.0, 6.0) and len(pts) == 20 and fps == pytest.approx(2.0)  # 10 s at fps 2, whole video
    # frame k of bikes sits at pts[k]; answering "k/fps" seconds names exactly pts[k]
    start_k = min(range(len(pts)), key=lambda k: abs(pts[k] - 2.0))
    end_k = min(range(len(pts)), key=lambda k: abs(pts[k] - 6.0))
    exact = f"{start_k / fps:.1f}-{end_k / fps:.1f}"
    target, report = _vtg_run(tmp_path, clips_dir, {"bikes": exact, "bigbuckbunny": "nonsense", "carphone_pristine": "0.0-0.1"})
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in rows}
    bikes_iou = interval_iou((pts[start_k], pts[end_k]), (2.0, 6.0))
    assert by_id["bikes"]["scores"][0] == pytest.approx(bikes_iou) and bikes_iou > 0.85
    assert by_id["bigbuckbunny"]["parsed"] == [None] and by_id["bigbuckbunny"]["scores"] == [0.0]
    assert by_id["carphone_pristine"]["scores"] == [0.0]  # parsed, no overlap with 0.5-2.5
    assert by_id["carphone_distorted"]["error"]  # no replay answer: an item error, counted missing
    overall = report["overall"]
    assert overall["items"] == 4 and overall["missing"] == 1 and overall["unparsed"] == 1
    assert overall["score"] == pytest.approx(bikes_iou / 4, abs=1e-6)  # mIoU over all 4 items
    assert overall["r@0.3"] == overall["r@0.5"] == overall["r@0.7"] == pytest.approx(0.25)
    assert report["metric"] == "mIoU"
