"""Linear-time parsing: megabyte-sized adversarial outputs score in milliseconds, and correctly."""

import time

import pytest

from videossr.rewards import TASKS, compute, data_source_for

MEGABYTE = 1_000_000
TRUTHS = {"grounding": "12.5-20.0", "counting": "3,1,4", "jigsaw": "315264"}
ANSWERS = {"grounding": "12.5-20", "counting": "3,1,4", "jigsaw": "315264"}

ADVERSARIAL = {
    "angle brackets": "<" * MEGABYTE,
    "open answer tags": "<answer>" * (MEGABYTE // 8),
    "answer blocks": "<answer>1</answer>" * (MEGABYTE // 17),
    "open think tags": "<think>" * (MEGABYTE // 7),
    "think-tag prefixes": "</think" * (MEGABYTE // 7),
    "one huge number": "9" * MEGABYTE,
    "comma list": "1," * (MEGABYTE // 2),
    "dash list": "12.5-" * (MEGABYTE // 5),
    "decimal points": "0." * (MEGABYTE // 2),
    "full-width digits": "\uff13\uff0c" * (MEGABYTE // 2),
    "clock times": "1:" * (MEGABYTE // 2),
    "shape words": "circles 3 " * (MEGABYTE // 10),
    "boxed openers": "\\boxed{" * (MEGABYTE // 7),
    "nan inf": "nan inf -inf 1e309 " * (MEGABYTE // 19),
}

# Scoring takes about 2-3 ms here (see benchmarks/bench_rewards.py); the bound catches a
# super-linear blow-up (which would take seconds) without failing on a busy CI machine.
BOUND_SECONDS = 0.05


def _best_time(function, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_megabyte_of_adversarial_text_scores_zero_fast(name):
    text = ADVERSARIAL[name]
    for task in TASKS:
        seconds, result = _best_time(lambda: compute(data_source_for(task), text, TRUTHS[task]))
        assert seconds < BOUND_SECONDS, f"{task}: {seconds * 1e3:.1f} ms"
        assert result.score == 0.0 and not result.format_ok


@pytest.mark.parametrize("task", TASKS)
def test_a_long_reasoning_before_the_answer_is_still_read_fast(task):
    text = "<think>" + "Let me count 1, 2, 3 again. " * (MEGABYTE // 28) + "</think><answer>" + ANSWERS[task] + "</answer>"
    seconds, result = _best_time(lambda: compute(data_source_for(task), text, TRUTHS[task]))
    assert seconds < BOUND_SECONDS
    assert (result.score, result.strict) == (1.0, 1.0)


def test_time_grows_linearly_with_length():
    """Ten times the text takes far less than a hundred times as long (quadratic would)."""
    unit = "<think>" + "12.5-" * 20_000
    small, _ = _best_time(lambda: compute(data_source_for("grounding"), unit, "12.5-20.0"), repeats=5)
    large, _ = _best_time(lambda: compute(data_source_for("grounding"), unit * 10, "12.5-20.0"), repeats=5)
    assert large < 30 * small + 0.002
