"""Answer location and number reading shared by the three scorers."""

import pytest

from videossr.rewards import parsing
from videossr.rewards.parsing import find_numbers, locate_answer, unique_group


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3,1,4", "3,1,4"),
        ("  3,1,4 \n", "3,1,4"),
        ("<answer>3,1,4</answer>", "3,1,4"),
        ("prose 9 9 9 <answer> 3,1,4 </answer> more 7", "3,1,4"),
        ("<think>1 2 3 4 5</think>3,1,4", "3,1,4"),
        ("<think>a</think><think>7 7</think> 3,1,4", "3,1,4"),
        ("<think>1 2</think><answer>3,1,4</answer>", "3,1,4"),
        ("<answer>3,1,4</answer><answer>3,1,4</answer>", "3,1,4"),
        ("<answer>3,1,4", "3,1,4"),  # a stop string ate </answer>
        ("3,1,4</answer>", "3,1,4"),  # <answer> was in the prompt
        ("The answer is \\boxed{3,1,4}.", "3,1,4"),
        ("<think> unclosed <answer>3,1,4</answer>", "3,1,4"),
        ("3,1,4 <think> second thoughts 5 6", "3,1,4"),
        ("<Answer>3,1,4</Answer>", "<Answer>3,1,4</Answer>"),  # only lower-case tags are tags
    ],
)
def test_locate_answer_finds_the_answer_region(text, expected):
    assert locate_answer(text) == (expected, "")


@pytest.mark.parametrize(
    "text, reason_part",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("<answer></answer>", "empty"),
        ("<think>still thinking 3,1,4", "unclosed <think>"),
        ("<answer>3,1,4</answer><answer>3,1,5</answer>", "conflicting <answer>"),
        ("\\boxed{3,1,4} \\boxed{1,1,1}", "conflicting \\boxed"),
        ("\\boxed{3,1,4", "unclosed \\boxed"),
        ("<answer>1</answer>" * (parsing.MAX_ANSWER_BLOCKS + 1), "more than"),
        ("x" * (parsing.MAX_ANSWER_CHARS + 1), "longer than"),
        ("<answer>" + "1 " * parsing.MAX_ANSWER_CHARS + "</answer>", "longer than"),
    ],
)
def test_locate_answer_refuses_missing_or_ambiguous_answers(text, reason_part):
    answer, reason = locate_answer(text)
    assert answer is None
    assert reason_part in reason


def test_numbers_are_read_with_their_spans_and_decimals():
    numbers, reason = find_numbers("from 12.5 to 20 s")
    assert reason == ""
    assert [(n.int_digits, n.frac_digits, n.start, n.end) for n in numbers] == [("12", "5", 5, 9), ("20", "", 13, 15)]


def test_full_width_digits_and_decimal_point_are_numbers():
    numbers, _ = find_numbers("\uff11\uff12\uff0e\uff15\uff0d\uff12\uff10")  # "１２．５－２０"
    assert [n.as_tenths() for n in numbers] == [125, 200]
    assert not any(n.negative for n in numbers)


@pytest.mark.parametrize(
    "text, negatives",
    [
        ("12.5-20", [False, False]),
        ("12.5 - 20", [False, False]),
        ("12.5 -20", [False, False]),
        ("12.5s -20s", [False, False]),
        ("3-1-4", [False, False, False]),
        ("-3,1,4", [True, False, False]),
        ("3, -1, 4", [False, True, False]),
        ("circles: -2", [True]),
        ("(\u22125, 10)", [True, False]),  # U+2212 MINUS SIGN
    ],
)
def test_a_dash_is_a_minus_sign_only_where_no_number_or_word_precedes_it(text, negatives):
    numbers, _ = find_numbers(text)
    assert [n.negative for n in numbers] == negatives


def test_too_many_or_too_long_numbers_are_refused():
    assert find_numbers("1 " * parsing.MAX_NUMBERS)[0] is not None
    assert "more than" in find_numbers("1 " * (parsing.MAX_NUMBERS + 1))[1]
    assert find_numbers("9" * parsing.MAX_INT_DIGITS)[0] is not None
    assert "digits" in find_numbers("9" * (parsing.MAX_INT_DIGITS + 1))[1]


@pytest.mark.parametrize("text, tenths", [("12.25", 123), ("12.24", 122), ("0.05", 1), ("7", 70), ("9.99", 100), ("3.149", 31)])
def test_tenths_round_half_up_exactly(text, tenths):
    numbers, _ = find_numbers(text)
    assert numbers[0].as_tenths() == tenths


def test_unique_group_accepts_verbatim_repeats_only():
    assert unique_group([1, 2, 1, 2], 2) == ((1, 2), "")
    assert unique_group([1, 2, 1, 3], 2)[0] is None
    assert unique_group([1, 2, 3], 2)[0] is None
    assert unique_group([], 2)[0] is None
