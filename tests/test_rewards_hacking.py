"""Reward hacking: padding an answer never scores more than the honest answer it pads."""

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from videossr.rewards import compute, data_source_for

HACK_SETTINGS = settings(max_examples=250, deadline=timedelta(milliseconds=250))

numbers = st.one_of(st.integers(0, 60).map(str), st.floats(0, 60, allow_nan=False).map(lambda x: f"{x:.1f}"))
joiners = st.sampled_from([", ", " ", " or ", "; also ", " and ", "\n"])


def _score(task, response, truth):
    return compute(data_source_for(task), response, truth).score


@st.composite
def intervals_tenths(draw, max_tenths=600):
    start = draw(st.integers(0, max_tenths - 1))
    end = draw(st.integers(start + 1, max_tenths))
    return start, end


def _interval_text(interval):
    return f"{interval[0] / 10:.1f}-{interval[1] / 10:.1f}"


@HACK_SETTINGS
@given(intervals_tenths(), intervals_tenths(), intervals_tenths(), st.lists(numbers, min_size=1, max_size=4), joiners)
def test_grounding_padding_never_beats_the_honest_interval(truth, honest, other, extra, joiner):
    truth_text, honest_text = _interval_text(truth), _interval_text(honest)
    honest_score = _score("grounding", honest_text, truth_text)
    padded = [
        honest_text + joiner + " ".join(extra),  # extra numbers
        honest_text + joiner + honest_text,  # the same interval again
        honest_text + joiner + _interval_text(other),  # a second interval
        f"<answer>{honest_text}</answer><answer>{_interval_text(other)}</answer>",
    ]
    for response in padded:
        assert _score("grounding", response, truth_text) <= honest_score, response


@HACK_SETTINGS
@given(st.floats(5.0, 3600.0), st.integers(8, 16), st.data())
def test_covering_the_whole_video_scores_at_most_the_longest_segment_share(duration_s, length_frames, data):
    """The trivial whole-video answer gets IoU = segment / video <= 16/48, never the honest 1."""
    fps = 48 / duration_s
    start_frame = data.draw(st.integers(0, 48 - length_frames))
    truth = f"{start_frame / fps:.1f}-{(start_frame + length_frames) / fps:.1f}"
    whole = _score("grounding", f"0.0-{duration_s:.1f}", truth)
    assert whole < 1.0 == _score("grounding", truth, truth)
    assert whole <= 16 / 48 + 0.03  # rounding to 0.1 s adds at most 0.1 s / 5 s of slack


@HACK_SETTINGS
@given(st.tuples(*[st.integers(0, 16)] * 3), st.tuples(*[st.integers(0, 16)] * 3), st.tuples(*[st.integers(0, 16)] * 3),
       st.lists(st.integers(0, 99).map(str), min_size=1, max_size=4), joiners)
def test_counting_padding_never_beats_the_honest_counts(truth, honest, other, extra, joiner):
    truth_text, honest_text, other_text = (",".join(map(str, c)) for c in (truth, honest, other))
    honest_score = _score("counting", honest_text, truth_text)
    padded = [
        honest_text + joiner + " ".join(extra),
        honest_text + joiner + honest_text,
        honest_text + joiner + other_text,
        " ".join(extra) + joiner + honest_text,
    ]
    for response in padded:
        assert _score("counting", response, truth_text) <= honest_score, response


@st.composite
def orders(draw, n):
    return draw(st.permutations(range(1, n + 1)))


def _order_text(order):
    return "".join(map(str, order)) if len(order) <= 9 else ",".join(map(str, order))


@HACK_SETTINGS
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(orders(n), orders(n), orders(n))),
       st.lists(st.integers(0, 20).map(str), min_size=1, max_size=3), joiners, st.data())
def test_jigsaw_padding_and_non_permutations_never_beat_the_honest_order(triple, extra, joiner, data):
    truth, honest, other = triple
    n = len(truth)
    truth_text, honest_text = _order_text(truth), _order_text(honest)
    honest_score = _score("jigsaw", honest_text, truth_text)
    position = data.draw(st.integers(0, n - 1))
    repeated = list(honest)
    repeated[position] = honest[(position + 1) % n]  # one clip twice, one missing
    padded = [
        honest_text + joiner + " ".join(extra),
        honest_text + joiner + honest_text,
        honest_text + joiner + _order_text(other),
        ",".join(map(str, repeated)),  # not a permutation
        ",".join(map(str, list(honest) + [n + 1])),  # one clip too many
        ",".join(map(str, honest[:-1])),  # one clip short
    ]
    for response in padded:
        assert _score("jigsaw", response, truth_text) <= honest_score, response
    assert _score("jigsaw", ",".join(map(str, repeated)), truth_text) == 0.0
    assert _score("jigsaw", truth_text, truth_text) == 1.0
