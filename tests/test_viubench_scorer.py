"""VIUBench scoring against hand-computed values: each metric, each average, the table, predictions files."""

import json
import re

import pytest

from videossr.errors import UserError
from videossr.viubench import BENCH_VERSION, SUBSETS, Item, read_predictions, score_item, score_report, subset
from videossr.viubench.published import published_rows, select
from videossr.viubench.table import CSV_COLUMNS, LABEL_WIDTH, TableRow, format_counts, format_table, to_csv


def make_item(subset_name: str, answer: str, n: int = 0) -> Item:
    """An in-memory item (frame paths are never opened by the scorer)."""
    info = subset(subset_name)
    clips = 6 if info.variant == "easy" and info.task == "jigsaw" else 8 if info.task == "jigsaw" else 1
    user = "".join(f"Clip {k + 1}: <video>\n" for k in range(clips)) + "Q?" if clips > 1 else "<video>\nQ?"
    frames = tuple(tuple(f"/frames/{k}/{i:06d}.jpg" for i in range(48 // clips)) for k in range(clips))
    return Item(id=f"{info.entry_key}-{n:06d}", subset=subset_name, task=info.task, variant=info.variant, ability=info.ability,
                data_source=f"videossr/{info.task}", video_id="v", system_prompt="S", user=user, question="Q?", answer=answer,
                clips=frames, sample_fps=4.8)


def test_metric_per_task_matches_hand_computed_values():
    grounding = make_item("grounding_mirror", "2.0-4.0")
    assert score_item(grounding, "3.0-5.0") == pytest.approx(1 / 3)  # overlap 1.0 s, union 3.0 s
    assert score_item(grounding, "between 2 and 4 seconds", parser="robust") == 1.0  # the rewards' reading
    assert score_item(grounding, "between 2 and 4 seconds") == 0.0  # the paper's (default): not a bare interval
    assert score_item(grounding, "5.0-6.0") == 0.0
    counting = make_item("counting_easy", "3,1,4")
    assert score_item(counting, "3,2,5") == pytest.approx(1 / 3)  # only circles exact
    assert score_item(counting, "3,1,5") == pytest.approx(2 / 3)
    assert score_item(counting, "circles: 3, squares: 1, triangles: 4", parser="robust") == 1.0  # same parser as the rewards
    jigsaw = make_item("jigsaw_easy", "315264")
    assert score_item(jigsaw, "315264") == 1.0
    assert score_item(jigsaw, "3-1-5-2-6-4", parser="robust") == 1.0
    assert score_item(jigsaw, "3-1-5-2-6-4") == 0.0
    assert score_item(jigsaw, "315246") == 0.0  # one swap: the smooth reward is high, the metric is exact match
    assert score_item(jigsaw, "no idea") == 0.0


# one or two items per subset with known responses; expected percentages worked out by hand
CASES = [
    ("counting_easy", "3,1,4", "3,1,4"),  # 1
    ("counting_easy", "3,1,4", "3,2,5"),  # 1/3      -> subset (1 + 1/3) / 2 = 66.67
    ("counting_hard", "5,6,7", None),  # missing   -> 0
    ("grounding_channel_swap", "2.0-4.0", "3.0-5.0"),  # IoU 1/3 -> 33.33
    ("grounding_rotate180", "1.0-3.0", "1.0-3.0"),  # 100
    ("grounding_zoom_out", "0.0-2.0", "0.0-1.0"),  # IoU 1/2 -> 50
    ("grounding_mirror", "1.0-2.0", "I cannot tell"),  # unparsable -> 0
    ("grounding_shuffle", "4.0-8.0", "5.0-7.0"),  # IoU 2/4 -> 50
    ("jigsaw_easy", "315264", "315264"),  # 100
    ("jigsaw_hard", "21345678", "21345678"),  # 1
    ("jigsaw_hard", "12345687", "21345687"),  # 0      -> 50
]
EXPECTED_SUBSETS = [200 / 3, 0.0, 100 / 3, 100.0, 50.0, 0.0, 50.0, 100.0, 50.0]


def hand_report():
    items, responses = [], {}
    for n, (name, answer, response) in enumerate(CASES):
        item = make_item(name, answer, n)
        items.append(item)
        if response is not None:
            responses[item.id] = response
    responses["not-an-item"] = "1,2,3"
    return score_report(items, responses, label="hand")


def test_report_averages_match_hand_computed_values():
    report = hand_report()
    assert [100 * report.subset_score(s) for s in SUBSETS] == pytest.approx(EXPECTED_SUBSETS)
    assert 100 * report.task_score("counting") == pytest.approx(100 / 3)  # (66.67 + 0) / 2
    assert 100 * report.task_score("grounding") == pytest.approx((100 / 3 + 100 + 50 + 0 + 50) / 5)  # 46.67
    assert 100 * report.task_score("jigsaw") == pytest.approx(75.0)
    assert 100 * report.ability_score("fine-grained") == pytest.approx(100 / 3)
    assert 100 * report.ability_score("spatial") == pytest.approx((100 / 3 + 100 + 50 + 0) / 4)  # 45.83
    assert 100 * report.ability_score("temporal") == pytest.approx((50 + 100 + 50) / 3)  # 66.67
    assert 100 * report.overall == pytest.approx(50.0)  # 450 / 9: unweighted over subsets, not items
    counts = {name: (s.items, s.answered, s.missing, s.unparsable) for name, s in report.subsets.items()}
    assert counts["counting_hard"] == (1, 0, 1, 0)
    assert counts["grounding_mirror"] == (1, 1, 0, 1)
    assert counts["jigsaw_hard"] == (2, 2, 0, 0)
    assert report.unknown_ids == 1
    data = report.to_dict()
    assert data["overall"] == pytest.approx(50.0) and data["missing"] == 1 and data["unparsable"] == 1
    assert data["viubench_version"] == BENCH_VERSION and data["units"] == "percent"


def _numbers(line: str) -> list[str]:
    """The one-decimal numbers of a table line, after its label column."""
    return re.findall(r"\d+\.\d", line[LABEL_WIDTH:])


def test_table_paper_layout_with_published_rows_as_printed():
    report = hand_report()
    seed = select(["seed1.5-vl"])[0]
    text = format_table([TableRow.from_report(report), TableRow.from_published(seed)])
    lines = text.splitlines()
    assert "Counting" in lines[1] and "Grounding" in lines[1] and "Jigsaw" in lines[1]
    ours = next(line for line in lines if line.startswith("hand "))
    # subsets with the task average after each group, then Overall
    assert _numbers(ours) == ["66.7", "0.0", "33.3", "33.3", "100.0", "50.0", "0.0", "50.0", "46.7", "100.0", "50.0", "75.0", "50.0"]
    printed = next(line for line in lines if line.startswith("Seed1.5-VL (paper)"))
    # as printed: the paper's counting average 62.6 is not the mean of 72.3 and 52.0 (62.15)
    assert _numbers(printed) == ["72.3", "52.0", "62.6", "79.0", "70.7", "19.4", "31.4", "24.1", "44.9", "20.7", "9.3", "15.0", "42.2"]
    ability = [line for line in lines if line.startswith("hand ")][1]
    assert _numbers(ability) == ["33.3", "45.8", "66.7"]
    counts = format_counts(report)
    assert re.search(r"counting_hard\s+1\s+0\s+1\s+0\s+-\s+0\.0", counts)  # nothing answered: no format-failure rate
    assert re.search(r"grounding_mirror\s+1\s+1\s+0\s+1\s+100\.0\s+0\.0", counts)
    assert "1 prediction(s) name ids that are not items" in counts


def test_csv_has_published_columns_and_rounds_to_one_decimal():
    report = hand_report()
    gpt5 = select(["GPT-5"])[0]
    rows = to_csv([TableRow.from_report(report), TableRow.from_published(gpt5)]).splitlines()
    assert rows[0].split(",") == CSV_COLUMNS
    header = rows[0].split(",")
    ours, theirs = (dict(zip(header, r.split(","))) for r in rows[1:])
    assert ours["counting_easy"] == "66.7" and ours["avg_grounding"] == "46.7" and ours["overall"] == "50.0" and ours["source"] == "scored"
    assert theirs["overall"] == "58.7" and theirs["source"] == "paper" and theirs["model"] == "GPT-5 (paper)"
    assert ours["viubench_version"] == BENCH_VERSION and theirs["viubench_version"] == ""


def test_published_table_is_the_shipped_csv():
    rows = published_rows()
    assert len(rows) == 14 and sum(r.group != "baseline" for r in rows) == 13
    by_name = {r.model: r for r in rows}
    assert by_name["GPT-5"].overall == 58.7 and by_name["Qwen3-VL-8B-Instruct"].overall == 19.5
    assert by_name["VideoSSR-8B"].subsets["grounding_zoom_out"] == 94.4
    guess = by_name["Random Guess"]  # PAPER.md's Random Guess row, as printed
    assert guess.group == "baseline" and list(guess.subsets.values()) == [11.1, 6.3, 25.9, 25.4, 25.4, 25.2, 25.2, 0.1, 0.0]
    assert guess.tasks == {"counting": 8.7, "grounding": 25.4, "jigsaw": 0.1} and guess.overall == 16.1
    with pytest.raises(KeyError, match="did you mean 'GPT-5'"):
        select(["GPT5"])


def _write(path, lines):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_predictions_file_accepts_runner_fields_and_refuses_other_versions(tmp_path):
    ok = _write(tmp_path / "ok.jsonl", [
        {"id": "a", "response": "1,2,3", "viubench_version": BENCH_VERSION, "latency_s": 0.3, "parsed": [1, 2, 3]},
        {"id": "b", "responses": ["4.0-5.0", "1.0-2.0"], "scores": [0.1, 0.2]},  # n outputs: the first is scored
        {"id": "c", "error": "timeout"},  # no response: missing
        {"id": "a", "response": "3,2,1"},  # a later line replaces an earlier one (resumed run)
    ])
    preds = read_predictions(ok)
    assert preds.responses == {"a": "3,2,1", "b": "4.0-5.0", "c": None}
    assert not preds.versioned
    old = _write(tmp_path / "old.jsonl", [{"id": "a", "response": "1,2,3", "viubench_version": "viubench-0.9"}])
    with pytest.raises(UserError, match="'viubench-0.9'.*'viubench-1.1'"):
        read_predictions(old)
    other_build = _write(tmp_path / "other.jsonl", [{"id": "a", "response": "1,2,3", "bench": "0000"}])
    with pytest.raises(UserError, match="another VIUBench build"):
        read_predictions(other_build, fingerprint="1111")
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "response": "1"}\n{oops\n', encoding="utf-8")
    with pytest.raises(UserError, match="line 2 is not JSON"):
        read_predictions(tmp_path / "bad.jsonl")
