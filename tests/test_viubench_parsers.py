"""The paper's answer parsing vs the robust (training reward) reading, on a hand-written table.

Expected values are worked out by hand from PAPER.md's rules ("Answer parsing in the paper's
scorers"): grounding reads the whole stripped answer as exactly number-number; counting takes
every run of digits and needs exactly three; jigsaw needs the stripped answer to be a
permutation of the answer's digits. FAIL = a format failure (scores 0).
"""

import json

import pytest

from videossr.rewards import compute
from videossr.score import format_report, score_predictions
from videossr.viubench import score_report
from videossr.viubench.parsers import read_answer
from videossr.viubench.scorer import item_result
from videossr.viubench.table import format_counts

from test_viubench_scorer import make_item

FAIL = None

# (subset, truth, response, paper metric or FAIL, robust metric or FAIL)
TABLE = [
    # grounding, truth 2.0-4.0 (IoU)
    ("grounding_mirror", "2.0-4.0", "2.0-4.0", 1.0, 1.0),
    ("grounding_mirror", "2.0-4.0", "3.0-5.0", 1 / 3, 1 / 3),  # overlap 1, union 3
    ("grounding_mirror", "2.0-4.0", " 3-5\n", 1 / 3, 1 / 3),  # surrounding whitespace is stripped
    ("grounding_mirror", "2.0-4.0", "2.05-4.0", 1.95 / 2.0, 1.9 / 2.0),  # paper: as written; robust: 2.05 rounds to 2.1
    ("grounding_mirror", "2.0-4.0", "from 2.1 to 3.4 seconds", FAIL, 1.3 / 2.0),
    ("grounding_mirror", "2.0-4.0", "0:02.5 - 0:05.8", FAIL, 1.5 / 3.8),  # robust: [2.5, 5.8], overlap 1.5, union 3.8
    ("grounding_mirror", "2.0-4.0", "2.0 - 4.0", FAIL, 1.0),  # not exactly number-number
    ("grounding_mirror", "2.0-4.0", "<answer>2.0-4.0</answer>", FAIL, 1.0),  # tags are not read
    ("grounding_mirror", "2.0-4.0", "2.0-4.0 seconds", FAIL, 1.0),
    ("grounding_mirror", "2.0-4.0", "[2.0, 4.0]", FAIL, 1.0),
    ("grounding_mirror", "2.0-4.0", "4.0-2.0", FAIL, FAIL),  # start after end
    # counting, truth 3,1,4 (exact match per shape, mean over 3)
    ("counting_easy", "3,1,4", "3,1,4", 1.0, 1.0),
    ("counting_easy", "3,1,4", "3 1 4", 1.0, 1.0),
    ("counting_easy", "3,1,4", "3,2,5", 1 / 3, 1 / 3),
    ("counting_easy", "3,1,4", "3,1,4.", 1.0, 1.0),
    ("counting_easy", "3,1,4", "<answer>3,1,4</answer>", 1.0, 1.0),  # the tags hold no digits: three runs
    ("counting_easy", "3,1,4", "circles: 3, squares: 1, triangles: 4", 1.0, 1.0),
    ("counting_easy", "3,1,4", "4 triangles, 3 circles, 1 square", 0.0, 1.0),  # paper: read in order (4, 3, 1)
    ("counting_easy", "3,1,4", "2.5,1,4", FAIL, FAIL),  # paper: four runs; robust: a decimal count
    ("counting_hard", "10,2,6", "6 triangles, 10 circles and 2 squares: 18 shapes", FAIL, FAIL),  # four numbers
    ("counting_hard", "10,2,6", "6 triangles, 10 circles, 2 squares", 0.0, 1.0),  # paper: (6, 10, 2), none right
    ("counting_hard", "10,2,6", "10,2", FAIL, FAIL),
    # jigsaw, truth 315264 / 21354687 (exact order)
    ("jigsaw_easy", "315264", "315264", 1.0, 1.0),
    ("jigsaw_easy", "315264", " 315264 ", 1.0, 1.0),
    ("jigsaw_easy", "315264", "315246", 0.0, 0.0),  # a permutation, not the order
    ("jigsaw_easy", "315264", "3,1,5,2,6,4", FAIL, 1.0),
    ("jigsaw_easy", "315264", "3-1-5-2-6-4", FAIL, 1.0),
    ("jigsaw_easy", "315264", "Clip 3, Clip 1, Clip 5, Clip 2, Clip 6, Clip 4", FAIL, 1.0),
    ("jigsaw_easy", "315264", "<answer>315264</answer>", FAIL, 1.0),
    ("jigsaw_easy", "315264", "31526", FAIL, FAIL),
    ("jigsaw_easy", "315264", "315265", FAIL, FAIL),
    ("jigsaw_hard", "21354687", "21354687", 1.0, 1.0),
    ("jigsaw_hard", "21354687", "12345678", 0.0, 0.0),
]


@pytest.mark.parametrize("subset_name, truth, response, paper, robust", TABLE)
def test_paper_and_robust_readings_match_the_hand_written_table(subset_name, truth, response, paper, robust):
    item = make_item(subset_name, truth)
    for parser, expected in (("paper", paper), ("robust", robust)):
        result = item_result(item, response, parser=parser)
        assert result.format_ok == (expected is not FAIL), (parser, response, result.reason)
        assert result.detail("viubench") == pytest.approx(0.0 if expected is FAIL else expected), (parser, response)


BARE = {"2.0-4.0", "3.0-5.0", "3,1,4", "3 1 4", "3,2,5", "315264", "315246", "21354687", "12345678"}


def test_robust_is_the_rewards_reading_and_bare_formats_score_the_same_under_both():
    for subset_name, truth, response, paper, robust in TABLE:
        item = make_item(subset_name, truth)
        assert item_result(item, response, parser="robust") == compute(item.data_source, response, truth)  # the training rewards' result
        if response in BARE:
            assert paper == robust, response
    verbose = [("grounding_mirror", "2.0-4.0", "from 2.1 to 3.4 seconds"), ("grounding_mirror", "2.0-4.0", "0:02.5 - 0:05.8"),
               ("jigsaw_easy", "315264", "Clip 3, Clip 1, Clip 5, Clip 2, Clip 6, Clip 4")]
    for subset_name, truth, response in verbose:
        assert not item_result(make_item(subset_name, truth), response).format_ok  # the default is the paper parser


def test_the_smooth_rewards_under_paper_parsing_match_hand_computed_values():
    # grounding smooth = IoU; counting per-shape closeness; jigsaw 1 - E / E_max, E_max = floor(36 / 2) = 18
    assert read_answer("paper", "videossr/grounding", "2.0-3.0", "2.0-4.0").score == pytest.approx(0.5)
    # (3,1,5) vs (3,1,4): closeness 1, 1, 1 - 1/4 -> mean 11/12
    assert read_answer("paper", "videossr/counting", "3,1,5", "3,1,4").score == pytest.approx(11 / 12, abs=1e-6)
    # 315246 vs 315264: clips 6 and 4 swapped at positions 5 and 6, E = 2 -> 1 - 2/18
    assert read_answer("paper", "videossr/jigsaw", "315246", "315264").score == pytest.approx(1 - 2 / 18)
    result = read_answer("paper", "videossr/jigsaw", "315264", "315264", mode="strict")
    assert result.reward == 1.0 and result.strict == 1.0
    with pytest.raises(ValueError, match="did you mean 'paper'"):
        read_answer("papr", "videossr/jigsaw", "1", "12")


def test_report_counts_format_failures_per_subset_under_each_parser():
    items = [make_item("grounding_mirror", "2.0-4.0", k) for k in range(4)]
    responses = {items[0].id: "2.0-4.0", items[1].id: "from 2.0 to 4.0 seconds", items[2].id: "<answer>3.0-5.0</answer>"}
    paper, robust = score_report(items, responses), score_report(items, responses, parser="robust")
    assert paper.parser == "paper" and robust.parser == "robust"
    p, r = paper.subsets["grounding_mirror"], robust.subsets["grounding_mirror"]
    assert (p.answered, p.missing, p.unparsable, p.score) == (3, 1, 2, pytest.approx(1 / 4))
    assert (r.unparsable, r.score) == (0, pytest.approx((1 + 1 + 1 / 3) / 4))
    assert p.format_failure_rate == pytest.approx(2 / 3) and r.format_failure_rate == 0.0
    line = next(line for line in format_counts(paper).splitlines() if line.startswith("grounding_mirror"))
    assert line.split() == ["grounding_mirror", "4", "3", "1", "2", "66.7", "25.0"]
    assert paper.to_dict()["subsets"]["grounding_mirror"]["format_failure_rate"] == pytest.approx(200 / 3)


def test_videossr_score_reads_robustly_by_default_and_paper_on_request(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"data_source": "videossr/jigsaw", "reward_model": {"ground_truth": "315264"}, "extra_info": {"sample_id": "j0", "task": "jigsaw", "variant": "easy", "index": 0}}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "data.parquet")
    (tmp_path / "p.jsonl").write_text(json.dumps({"sample_id": "j0", "response": "<answer>3,1,5,2,6,4</answer>"}) + "\n", encoding="utf-8")
    robust = score_predictions(tmp_path / "p.jsonl", tmp_path / "data.parquet")
    paper = score_predictions(tmp_path / "p.jsonl", tmp_path / "data.parquet", parser="paper")
    assert (robust.parser, robust.overall.strict, robust.overall.format_failure_rate) == ("robust", 1.0, 0.0)
    assert (paper.parser, paper.overall.strict, paper.overall.format_failure_rate) == ("paper", 0.0, 1.0)
    assert format_report(paper).splitlines()[-1] == "answers read by the paper parser" and paper.to_dict()["parser"] == "paper"
