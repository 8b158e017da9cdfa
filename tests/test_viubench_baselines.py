"""Model-free baselines against their analytic expectations (tolerances from the sample size)."""

import math
from dataclasses import replace

import numpy as np
import pytest

from videossr.tasks.grounding import render_answer
from videossr.viubench import score_item, score_report
from videossr.viubench.baselines import baseline_responses

from test_viubench_scorer import make_item

FPS = 4.8  # 48 frames -> a 10.0 s time axis (100 tenths)


def replicas(item, n):
    return [replace(item, id=f"{item.id}-r{k}") for k in range(n)]


def mean_score(name, items, seed=0):
    responses = baseline_responses(name, items, seed=seed)
    return float(np.mean([score_item(i, responses[i.id]) for i in items])), responses


@pytest.mark.parametrize("subset_name, high", [("counting_easy", 9), ("counting_hard", 16)])
def test_random_counting_hits_each_shape_with_probability_one_over_range(subset_name, high):
    # a uniform guess over 1..high that ignores the truth is exact on a shape with probability 1/high
    truths = [f"{1 + k % high},{1 + (k // 3) % high},{1 + (k // 7) % high}" for k in range(40)]
    items = [it for k, t in enumerate(truths) for it in replicas(make_item(subset_name, t, k), 75)]  # 3000 items
    mean, responses = mean_score("random", items)
    guesses = np.array([[int(c) for c in r.split(",")] for r in responses.values()])
    assert guesses.min() == 1 and guesses.max() == high  # the whole answer space, nothing outside it
    p = 1 / high
    sigma = math.sqrt(p * (1 - p) / (3 * len(items)))  # 3 independent shapes per item
    assert abs(mean - p) < 4 * sigma


@pytest.mark.parametrize("subset_name, truth", [("jigsaw_easy", "315264"), ("jigsaw_hard", "21354687")])
def test_random_jigsaw_is_exact_with_probability_one_over_n_factorial(subset_name, truth):
    items = replicas(make_item(subset_name, truth), 3000)
    mean, responses = mean_score("random", items)
    n = len(truth)
    assert all(sorted(r) == [str(k) for k in range(1, n + 1)] for r in responses.values())  # permutations of 1..n
    p = 1 / math.factorial(n)
    assert abs(mean - p) < 4 * math.sqrt(p * (1 - p) / len(items)) + 1 / len(items)


def grounding_population():
    """Every (start, length) the generator can draw on 48 frames, with its probability
    (length uniform in 8..16, then start uniform in 0..48-length)."""
    out = []
    for length in range(8, 17):
        for start in range(0, 48 - length + 1):
            answer = render_answer({"start_frame": start, "length_frames": length}, FPS)
            out.append((answer, 1 / 9 / (49 - length)))
    return out


def test_whole_video_grounding_scores_segment_length_over_duration():
    population = grounding_population()
    items = [make_item("grounding_zoom_out", answer, k) for k, (answer, _) in enumerate(population)]
    responses = baseline_responses("whole-video", items)
    assert set(responses.values()) == {"0.0-10.0"}
    scores = np.array([score_item(i, responses[i.id]) for i in items])
    lengths = np.array([float(i.answer.split("-")[1]) - float(i.answer.split("-")[0]) for i in items])
    assert scores == pytest.approx(lengths / 10.0)  # IoU of a segment inside the whole axis
    expected = np.dot(scores, [w for _, w in population])
    assert expected == pytest.approx(12 / 48, abs=0.003)  # E[length] / 48 frames, up to the 0.1 s answer grid


def exact_random_iou(answer: str, tenths: int = 100) -> tuple[float, float]:
    """Mean and variance of the IoU of a uniform random pair of distinct grid points (sorted) with the truth."""
    a, b = (round(float(x) * 10) for x in answer.split("-"))
    i, j = np.triu_indices(tenths + 1, k=1)
    overlap = np.clip(np.minimum(j, b) - np.maximum(i, a), 0, None)
    iou = overlap / ((j - i) + (b - a) - overlap)
    return float(iou.mean()), float(iou.var())


def test_random_grounding_matches_the_exact_expectation():
    population = grounding_population()[::7]  # 48 truths over all lengths and starts
    items, expected, variance = [], [], []
    for k, (answer, _) in enumerate(population):
        mean, var = exact_random_iou(answer)
        batch = replicas(make_item("grounding_mirror", answer, k), 60)
        items += batch
        expected += [mean] * len(batch)
        variance += [var] * len(batch)
    mean, responses = mean_score("random", items, seed=3)
    starts_ends = np.array([[float(x) for x in r.split("-")] for r in responses.values()])
    assert starts_ends.min() >= 0.0 and starts_ends.max() <= 10.0 and (starts_ends[:, 0] < starts_ends[:, 1]).all()
    sigma = math.sqrt(sum(variance)) / len(items)
    assert abs(mean - np.mean(expected)) < 4 * sigma


def test_whole_video_equals_random_outside_grounding_and_baselines_are_seeded():
    items = [make_item("counting_easy", "3,1,4", 0), make_item("jigsaw_hard", "21354687", 1), make_item("grounding_shuffle", "2.0-4.0", 2)]
    rand, whole = baseline_responses("random", items), baseline_responses("whole-video", items)
    assert rand[items[0].id] == whole[items[0].id] and rand[items[1].id] == whole[items[1].id]
    assert baseline_responses("random", items) == rand  # same seed, same guesses
    assert baseline_responses("random", items, seed=1) != rand
    report = score_report(items, whole)
    assert report.subsets["grounding_shuffle"].score == pytest.approx(0.2)  # 2 s of a 10 s axis
    with pytest.raises(KeyError, match="did you mean 'random'"):
        baseline_responses("randm", items)


# ----------------------------------------------------------------------------- the chance row

# by hand: counting 1/9 and 1/16 per shape; grounding E[length]/48 = 12/48 (lengths uniform 8..16); jigsaw 1/6! and 1/8!
HAND_CHANCE = {"counting_easy": 100 / 9, "counting_hard": 100 / 16, "grounding_channel_swap": 25.0, "grounding_rotate180": 25.0,
               "grounding_zoom_out": 25.0, "grounding_mirror": 25.0, "grounding_shuffle": 25.0, "jigsaw_easy": 100 / 720, "jigsaw_hard": 100 / 40320}


def test_chance_row_equals_the_analytic_values():
    from videossr.viubench.table import CHANCE_LABEL, TableRow, format_table

    row = TableRow.chance()
    assert row.subsets == pytest.approx(HAND_CHANCE)
    assert row.tasks == pytest.approx({"counting": (100 / 9 + 100 / 16) / 2, "grounding": 25.0, "jigsaw": (100 / 720 + 100 / 40320) / 2})
    assert row.abilities == pytest.approx({"fine-grained": (100 / 9 + 100 / 16) / 2, "spatial": 25.0, "temporal": (25 + 100 / 720 + 100 / 40320) / 3})
    assert row.overall == pytest.approx(sum(HAND_CHANCE.values()) / 9)  # 15.83; the paper's 16.1 has grounding 25.2-25.9
    line = next(line for line in format_table([row]).splitlines() if line.startswith(CHANCE_LABEL))
    assert line.split("|")[1:] == [f" {11.111:6.1f} {6.25:6.1f} {8.68:6.1f} ", "   25.0   25.0    25.0   25.0    25.0   25.0 ",
                                   "    0.1    0.0    0.1 ", "    15.8"]


def test_chance_baseline_is_the_papers_random_guess_definition():
    items = [make_item("counting_easy", "3,1,4", 0), make_item("jigsaw_hard", "21354687", 1), make_item("grounding_shuffle", "2.0-4.0", 2)]
    chance, rand = baseline_responses("chance", items), baseline_responses("random", items)
    assert chance == baseline_responses("whole-video", items)  # grounding: the whole-video interval
    assert chance[items[0].id] == rand[items[0].id] and chance[items[1].id] == rand[items[1].id]  # uniform counts and orders
    assert chance[items[2].id] == "0.0-10.0"
    # its expected grounding score over the generator's segments is the analytic 25 % (up to the 0.1 s grid)
    population = grounding_population()
    scored = [score_item(make_item("grounding_mirror", answer, k), "0.0-10.0") * weight for k, (answer, weight) in enumerate(population)]
    assert 100 * sum(scored) == pytest.approx(HAND_CHANCE["grounding_mirror"], abs=0.3)
