"""VQA letter extraction and VTG metrics against hand-computed cases (no model needed)."""

from __future__ import annotations

import json

import pytest

from videossr.evaluate.metrics import clip_interval, extract_letter, interval_iou, option_letters, parse_truth_interval, predicted_interval

ABCD = "ABCD"


@pytest.mark.parametrize("text, letter", [
    ("C", "C"), ("(C)", "C"), ("[C]", "C"), ("C.", "C"), ("C. a man on the phone", "C"), ("C) a man", "C"), ("(C) a man", "C"),
    ("C: a man", "C"), ("  C  ", "C"), ("The answer is C", "C"), ("The answer is (C).", "C"), ("Answer: C", "C"),
    ("The correct option is B.", "B"), ("<answer>D</answer>", "D"), ("<think>A or B?</think>B", "B"),
    ("c", "C"), ("I think it is C", "C"), ("A man. The answer is B", "B"),  # read as a grader would (were unparsed before)
])
def test_letters_read(text, letter):
    assert extract_letter(text, ABCD) == letter


@pytest.mark.parametrize("text", ["A dog runs", "The answer is C or D", "E", "The answer is E", "", "   ", "CD", "42"])
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


@pytest.mark.parametrize("text, interval", [
    ("3.1-5.0", (3.1, 5.0)), ("3.1s - 5.0s", (3.1, 5.0)), ("[3.1, 5.0]", (3.1, 5.0)), ("between 3.1 and 5.0 seconds", (3.1, 5.0)),
    ("from 0:03 to 0:05.5", (3.0, 5.5)), ("\uff13.\uff11-\uff15.\uff10", (3.1, 5.0)), ("2.35-6.15", (2.35, 6.15)),  # full precision
    ("3.1-5.0, i.e. 3.1-5.0", (3.1, 5.0)), ("The event starts at 3.1 s and ends at 5.0 s.", (3.1, 5.0)),
    # an extra, unrelated number beside the interval
    ("In the 2 clips, the event happens at 3.1-5.0 seconds", (3.1, 5.0)), ("The 1st event: 2.0 - 4.5 s", (2.0, 4.5)),
    ("It starts at 12.5 seconds and ends at 20.0 seconds (2 people)", (12.5, 20.0)), ("Person 3 waves from 1.5 to 4.0 seconds.", (1.5, 4.0)),
    # ambiguous or malformed: unparsed
    ("1-2 and 3-4", None), ("3.1-5.0 or 6.0-7.0", None), ("at 3 and at 5 and at 7", None), ("-3 to 5", None), ("5.0-3.1", None), ("0:75-0:80", None),
])
def test_vtg_reading(text, interval):
    assert predicted_interval(text) == (pytest.approx(interval) if interval else None)


def test_intervals_are_clipped_to_the_video():
    assert clip_interval((0.0, 12.0), 10.0) == (0.0, 10.0)
    assert clip_interval((11.0, 12.0), 10.0) == (10.0, 10.0)  # wholly past the end: IoU 0
    assert interval_iou(clip_interval((11.0, 12.0), 10.0), (2.0, 6.0)) == 0.0
    assert clip_interval(None, 10.0) is None


def _vtg_run(tmp_path, clips_dir, responses: dict, answers: dict | None = None):
    from eval_helpers import write_vtg_json

    from videossr.backends import get_backend
    from videossr.evaluate import load_target, run_eval

    path = write_vtg_json(tmp_path / "vtg.json")
    if answers:
        items = [dict(item, answer=answers.get(item["id"], item["answer"])) for item in json.loads(path.read_text())]
        path.write_text(json.dumps(items))
    target = load_target(path, video_dir=clips_dir, work_dir=tmp_path / "out" / "frames")
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"id": k, "response": v}) + "\n" for k, v in responses.items()))
    return target, run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "out", progress=False)


def test_answering_the_ground_truth_scores_iou_one_on_a_real_clip(tmp_path, clips_dir):
    # bikes.mp4: 10 s at 25 fps. The old axis showed frame i at i / 2.0 while it sat at 0.524 i s: IoU 0.89 for the truth itself.
    target, report = _vtg_run(tmp_path, clips_dir, {"bikes": "2.35-6.15", "bigbuckbunny": "1.0-3.0", "carphone_pristine": "The event is at 0.5 - 2.5 seconds",
                                                    "carphone_distorted": "0.0-10.0"}, answers={"bikes": "2.35-6.15"})
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "out" / "predictions.jsonl").read_text().splitlines())}
    assert rows["bikes"]["scores"] == [1.0] and rows["bikes"]["strict"] == [1.0]
    assert rows["bigbuckbunny"]["scores"] == [1.0] and rows["carphone_pristine"]["scores"] == [1.0]
    # 0.0-10.0 on a 4 s clip is the whole clip: clipped to its duration, never mapped past its end
    duration = next(i for i in target.items if i.id == "carphone_distorted").payload[1]
    assert duration == pytest.approx(4.0, abs=0.05)
    assert rows["carphone_distorted"]["parsed"] == [f"0.00-{duration:.2f}"]
    assert rows["carphone_distorted"]["scores"][0] == pytest.approx(2.0 / duration)
    assert report["overall"]["r@0.7"] == pytest.approx(0.75)


def test_vtg_report_counts_unparsed_as_zero(tmp_path, clips_dir):
    target, report = _vtg_run(tmp_path, clips_dir, {"bikes": "3.0-6.0", "bigbuckbunny": "nonsense", "carphone_pristine": "0.0-0.1"})
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in rows}
    bikes_iou = interval_iou((3.0, 6.0), (2.0, 6.0))  # 0.75, scored in video seconds as it is
    assert by_id["bikes"]["scores"][0] == pytest.approx(bikes_iou)
    assert by_id["bigbuckbunny"]["parsed"] == [None] and by_id["bigbuckbunny"]["scores"] == [0.0]
    assert by_id["carphone_pristine"]["scores"] == [0.0]  # parsed, no overlap with 0.5-2.5
    assert by_id["carphone_distorted"]["error"]  # no replay answer: an item error, counted missing
    overall = report["overall"]
    assert overall["items"] == 4 and overall["missing"] == 1 and overall["unparsed"] == 1
    assert overall["score"] == pytest.approx(bikes_iou / 4, abs=1e-6)  # mIoU over all 4 items
    assert overall["r@0.3"] == overall["r@0.5"] == overall["r@0.7"] == pytest.approx(0.25)
    assert report["metric"] == "mIoU"
