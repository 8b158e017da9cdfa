"""The three scorers on realistic outputs: accepted grammar, the PAPER.md formulas, strictness."""

import pytest

from videossr.rewards import counting, grounding, jigsaw


def _scores(module, response, truth):
    result = module.score(response, truth)
    return round(result.score, 6), result.strict, result.format_ok


# ---------------------------------------------------------------------------------- grounding


@pytest.mark.parametrize(
    "response",
    [
        "12.5-20.0",
        "<answer>12.5-20</answer>",
        "between 12.5 and 20 seconds",
        "12.5s - 20s",
        "The anomaly occurs from 12.5 s to 20.0 s.",
        "[12.5, 20.0]",
        "<12.5 seconds> - <20.0 seconds>",
        "12.5\u201320",  # en dash
        "\uff11\uff12\uff0e\uff15\uff0d\uff12\uff10",  # full-width
        "from 0:12.5 to 0:20",
        "00:00:12.5-00:00:20.0",
        "<think>Maybe 3 to 4, no.</think><answer>12.5-20</answer>",
        "12.5-20, i.e. 12.5-20",
        "12.46-19.95",  # rounds to the truth's 0.1 s grid
    ],
)
def test_grounding_accepts_the_documented_forms(response):
    assert _scores(grounding, response, "12.5-20.0") == (1.0, 1.0, True)


@pytest.mark.parametrize(
    "response",
    [
        "12.5",
        "12.5-20 or 13-20",  # two different intervals
        "It lasts 7.5 s, from 12.5 to 20 s",  # an extra number
        "20-12.5",  # start after end
        "-5-10",
        "1:75-2:00",  # not a clock time
        "no idea",
        "<think>12.5-20</think>",
    ],
)
def test_grounding_refuses_ambiguous_or_malformed_answers(response):
    assert _scores(grounding, response, "12.5-20.0") == (0.0, 0.0, False)


@pytest.mark.parametrize(
    "response, iou",
    [
        ("12.5-20", 7.5 / 10),  # inside the truth [10, 20]
        ("15-25", 5 / 15),  # overlap 5 s, union 15 s
        ("0-5", 0.0),
        ("12.5-12.5", 0.0),
    ],
)
def test_grounding_smooth_reward_is_temporal_iou(response, iou):
    truth = "10.0-20.0"
    result = grounding.score(response, truth)
    assert result.score == pytest.approx(iou)
    assert result.strict == 0.0 and result.detail("iou") == result.score == result.detail("viubench")


def test_grounding_iou_uses_tenths_exactly():
    assert grounding.iou((125, 200), (125, 200)) == 1.0
    assert grounding.iou((100, 200), (125, 200)) == pytest.approx(75 / 100)
    assert grounding.iou((0, 50), (100, 200)) == 0.0


@pytest.mark.parametrize("bad", ["12.3", "20.5-12.3", "5-5", "12.34-20.5", "a-b", "-1-3", "", None])
def test_grounding_rejects_malformed_ground_truth(bad):
    with pytest.raises(ValueError, match="grounding ground truth"):
        grounding.parse_ground_truth(bad)


# ----------------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    "response",
    [
        "3,1,4",
        "3, 1, 4",
        "3 1 4",
        "<answer>(3, 1, 4)</answer>",
        "circles: 3, squares: 1, triangles: 4",
        "Circles: 3\nSquares: 1\nTriangles: 4",
        "squares: 1, triangles: 4, circles: 3",
        "3 circles, 1 square and 4 triangles",
        "There are 4 triangles, 3 circles and 1 square.",
        "The counts are 3, 1, 4.",
        "\uff13\uff0c\uff11\uff0c\uff14",
        "3,1,4 (3,1,4)",
    ],
)
def test_counting_accepts_the_documented_forms(response):
    assert _scores(counting, response, "3,1,4") == (1.0, 1.0, True)


@pytest.mark.parametrize(
    "response",
    ["3,1", "3,1,4,5", "3,1,4 or 3,1,5", "-3,1,4", "3.5,1,4", "circles: 3, circles: 1, triangles: 4", "none", ""],
)
def test_counting_refuses_ambiguous_or_malformed_answers(response):
    assert _scores(counting, response, "3,1,4") == (0.0, 0.0, False)


def test_counting_smooth_reward_follows_the_paper():
    eps = counting.EPS
    expected = (1 - 1 / (3 + eps) + 1 + max(0.0, 1 - 6 / (4 + eps))) / 3
    result = counting.score("4,1,10", "3,1,4")
    assert result.score == pytest.approx(expected)
    assert result.strict == 0.0
    assert [result.detail(f"exact_{s}") for s in counting.SHAPES] == [0.0, 1.0, 0.0]
    assert result.detail("exact_per_shape") == pytest.approx(1 / 3) == result.detail("viubench")


def test_counting_zero_true_count_scores_only_an_exact_zero():
    assert counting.score("0,2,2", "0,2,2").score == 1.0
    assert counting.score("1,2,2", "0,2,2").score == pytest.approx(2 / 3)


@pytest.mark.parametrize("bad", ["3,1", "3,1,4,1", "3;1;4", "-1,2,3", "a,b,c", None])
def test_counting_rejects_malformed_ground_truth(bad):
    with pytest.raises(ValueError, match="counting ground truth"):
        counting.parse_ground_truth(bad)


# ------------------------------------------------------------------------------------- jigsaw


@pytest.mark.parametrize(
    "response",
    [
        "315264",
        "3,1,5,2,6,4",
        "3-1-5-2-6-4",
        "3 1 5 2 6 4",
        "3 -> 1 -> 5 -> 2 -> 6 -> 4",
        "Clip 3, Clip 1, Clip 5, Clip 2, Clip 6, Clip 4",
        "<answer>315264</answer>",
        "\uff13\uff11\uff15\uff12\uff16\uff14",
        "315264, i.e. 3,1,5,2,6,4",
    ],
)
def test_jigsaw_accepts_the_documented_forms(response):
    assert _scores(jigsaw, response, "315264") == (1.0, 1.0, True)


def test_jigsaw_with_ten_or_more_clips_reads_lists():
    truth = "3,1,10,2,4,5,6,7,8,9,11,12"
    assert _scores(jigsaw, "3, 1, 10, 2, 4, 5, 6, 7, 8, 9, 11, 12", truth) == (1.0, 1.0, True)
    assert _scores(jigsaw, "12,11,10,9,8,7,6,5,4,3,2,1", truth)[2] is True


@pytest.mark.parametrize("response", ["31526", "3152640", "113264", "315267", "3,1,5,2,6", "315264 315246", "3.1,5,2,6,4", "-3,1,5,2,6,4"])
def test_jigsaw_refuses_non_permutations_and_ambiguity(response):
    assert _scores(jigsaw, response, "315264") == (0.0, 0.0, False)


def test_jigsaw_smooth_reward_is_one_minus_normalised_footrule():
    # truth 1..6; prediction swaps the first two clips: E = 2, E_max = 18
    assert jigsaw.score("213456", "123456").score == pytest.approx(1 - 2 / 18)
    # the reversed order has the largest displacement: E = E_max = floor(n^2 / 2)
    for n in range(2, 13):
        truth = list(range(1, n + 1))
        fmt = "".join if n <= 9 else ",".join
        reversed_order = fmt(str(k) for k in reversed(truth))
        assert jigsaw.score(reversed_order, fmt(str(k) for k in truth)).score == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("bad", ["1", "1123", "0123", "1,2,2", "4,1,2", "1234567890", "1,2,3,4,5,6,7,8,9,10,11,12,13", None])
def test_jigsaw_rejects_malformed_ground_truth(bad):
    with pytest.raises(ValueError, match="jigsaw ground truth"):
        jigsaw.parse_ground_truth(bad)
