"""Property tests (hypothesis): the scorers are total, bounded, ordered, and the truth scores 1."""

import math
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from videossr.rewards import TASKS, compute, data_source_for

PROPERTY_SETTINGS = settings(max_examples=300, deadline=timedelta(milliseconds=250))

FULL_WIDTH = str.maketrans("0123456789.-,:", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff0e\uff0d\uff0c\uff1a")

# Pieces real and adversarial outputs are made of: tags, numbers in odd spellings, separators.
FRAGMENTS = [
    "<answer>", "</answer>", "<think>", "</think>", "\\boxed{", "}", "<", ">", "/", "-", "\u2212", "\u2013",
    ",", ", ", " ", "\n", ".", ":", "\uff1a", "\uff0e", "s", " seconds", "between", " and ", "to",
    "circles", "squares", "triangles", "Clip ", "->", "nan", "NaN", "inf", "-inf", "Infinity", "1e309",
    "-0", "0", "00", "7", "12.5", "\uff11\uff12", "9" * 12, "9" * 400, "1" * 10, "0.05", "\u0663",
    "\U0001d7d9", "\x00", "\ud7ff", "\u202e", "\ufeff", "\u00b2",
]

fragment_soup = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6), st.integers(-10**30, 10**30).map(str),
              st.floats(allow_nan=True, allow_infinity=True).map(repr)),
    max_size=40,
).map("".join)
any_output = st.one_of(st.text(max_size=300), fragment_soup)


@st.composite
def grounding_truths(draw):
    """Truths as the generator writes them: a 8..16-frame segment of 48 frames, one decimal."""
    duration_s = draw(st.floats(min_value=5.0, max_value=3600.0))
    fps = 48 / duration_s
    length = draw(st.integers(8, 16))
    start = draw(st.integers(0, 48 - length))
    return f"{start / fps:.1f}-{(start + length) / fps:.1f}"


counting_truths = st.tuples(*[st.integers(0, 16)] * 3).map(lambda c: ",".join(map(str, c)))


@st.composite
def jigsaw_truths(draw):
    n = draw(st.integers(2, 12))
    order = draw(st.permutations(range(1, n + 1)))
    return "".join(map(str, order)) if n <= 9 else ",".join(map(str, order))


TRUTHS = {"grounding": grounding_truths(), "counting": counting_truths, "jigsaw": jigsaw_truths()}
task_and_truth = st.sampled_from(TASKS).flatmap(lambda task: st.tuples(st.just(task), TRUTHS[task]))


def _check_bounded(result):
    assert math.isfinite(result.score) and 0.0 <= result.score <= 1.0
    assert result.strict in (0.0, 1.0)
    assert result.strict <= result.score
    assert all(0.0 <= value <= 1.0 for _, value in result.details)
    if not result.format_ok:
        assert result.score == result.strict == 0.0 and result.reason


@PROPERTY_SETTINGS
@given(task_and_truth, any_output)
def test_any_output_scores_in_bounds_without_raising(task_truth, output):
    task, truth = task_truth
    for mode in ("smooth", "strict"):
        result = compute(data_source_for(task), output, truth, mode=mode)
        _check_bounded(result)
        assert result.reward == (result.strict if mode == "strict" else result.score)


@PROPERTY_SETTINGS
@given(task_and_truth, st.sampled_from(FRAGMENTS + [""]), st.sampled_from(FRAGMENTS + [""]))
def test_the_truth_with_noise_around_it_scores_in_bounds(task_truth, before, after):
    task, truth = task_truth
    _check_bounded(compute(data_source_for(task), before + truth + after, truth))


WRAPPINGS = [
    "{}",
    "  {}\n",
    "<answer>{}</answer>",
    "<think>Let me count: 1, 2, 3... maybe 99.</think>\n<answer>{}</answer>",
    "<think>hmm 5 6 7</think>{}",
    "The answer is {}.",
    "Answer: {}",
    "\\boxed{{{}}}",
    "<answer>{}",
    "{} (that is, {})",
]


@PROPERTY_SETTINGS
@given(task_and_truth, st.sampled_from(WRAPPINGS), st.booleans())
def test_the_true_answer_scores_one_in_every_accepted_wrapping(task_truth, wrapping, full_width):
    task, truth = task_truth
    answer = truth.translate(FULL_WIDTH) if full_width else truth
    result = compute(data_source_for(task), wrapping.format(answer, answer), truth)
    assert (result.score, result.strict, result.format_ok) == (1.0, 1.0, True)


@PROPERTY_SETTINGS
@given(task_and_truth, st.sampled_from([", ", " ", "-", " - ", " -> ", ";  "]))
def test_the_true_answer_scores_one_with_any_separator(task_truth, separator):
    task, truth = task_truth
    parts = truth.split("-") if task == "grounding" else (truth.split(",") if "," in truth else list(truth))
    result = compute(data_source_for(task), separator.join(parts), truth)
    assert (result.score, result.strict) == (1.0, 1.0)


@settings(max_examples=40, deadline=timedelta(milliseconds=500))
@given(task_and_truth, fragment_soup.filter(bool), st.sampled_from(["", "</think>", "<answer>", "</answer>"]), any_output)
def test_megabyte_outputs_of_any_fragments_score_in_bounds(task_truth, unit, joint, tail):
    """About 1 MB: a repeated soup of fragments, an optional tag, then anything."""
    task, truth = task_truth
    text = unit * (1_000_000 // len(unit) + 1) + joint + tail
    _check_bounded(compute(data_source_for(task), text, truth))
