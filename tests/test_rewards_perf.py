"""Linear-time parsing: megabyte-sized adversarial outputs score in milliseconds, and correctly."""

import pytest

from videossr.rewards import TASKS, compute, counting, data_source_for, grounding, jigsaw
from videossr.rewards.parsing import MAX_ANSWER_CHARS

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

# Speed itself is measured by benchmarks/bench_rewards.py, never here. These tests check the
# property that makes parsing linear: whatever the response length, only str.find/rfind scan the
# whole text and the number parsers see at most MAX_ANSWER_CHARS characters.
PARSERS = {"grounding": (grounding, "parse_interval"), "counting": (counting, "parse_counts"), "jigsaw": (jigsaw, "parse_order")}


@pytest.fixture
def parsed_lengths(monkeypatch):
    """Record the length of every answer region handed to a task's number parser."""
    seen: list[int] = []
    for module, name in PARSERS.values():
        original = getattr(module, name)

        def spy(answer, *args, _original=original, **kwargs):
            seen.append(len(answer))
            return _original(answer, *args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return seen


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_megabyte_of_adversarial_text_scores_zero_and_is_never_parsed_whole(name, parsed_lengths):
    text = ADVERSARIAL[name]
    for task in TASKS:
        result = compute(data_source_for(task), text, TRUTHS[task])
        assert result.score == 0.0 and not result.format_ok
    assert all(n <= MAX_ANSWER_CHARS for n in parsed_lengths)


@pytest.mark.parametrize("task", TASKS)
def test_a_long_reasoning_before_the_answer_is_skipped_not_parsed(task, parsed_lengths):
    text = "<think>" + "Let me count 1, 2, 3 again. " * (MEGABYTE // 28) + "</think><answer>" + ANSWERS[task] + "</answer>"
    result = compute(data_source_for(task), text, TRUTHS[task])
    assert (result.score, result.strict) == (1.0, 1.0)
    assert parsed_lengths == [len(ANSWERS[task])]


def test_an_overlong_answer_region_is_a_format_failure_before_any_parsing(parsed_lengths):
    result = compute(data_source_for("counting"), "<answer>" + "3, " * MAX_ANSWER_CHARS + "</answer>", "3,1,4")
    assert not result.format_ok and result.score == 0.0
    assert parsed_lengths == []
