"""Bootstrap intervals and per-item scores of a VIUBench report; the --compare caveat."""

import json
import math

import pytest

from videossr.viubench import score_report
from videossr.viubench.intervals import bootstrap
from videossr.viubench.report import COMPARE_CAVEAT, Scored
from videossr.viubench.published import select
from videossr.viubench.table import CI_LABEL, TableRow, format_table

from test_viubench_scorer import make_item


def half_right(name: str, n: int = 300):
    """n items of one subset, every other one answered right (score 1) and the rest wrong (0)."""
    items = [make_item(name, "2.0-4.0" if name.startswith("grounding") else "3,1,4", k) for k in range(n)]
    return items, {item.id: (item.answer if k % 2 == 0 else "9.0-9.5" if name.startswith("grounding") else "9,9,9") for k, item in enumerate(items)}


def test_bootstrap_interval_matches_the_normal_approximation_and_is_seeded():
    items, responses = half_right("counting_easy")
    report = score_report(items, responses)
    ci = report.intervals(seed=0)
    low, high = ci["subsets"]["counting_easy"]
    # 300 items of score 0 or 1 with mean 0.5: SE = sqrt(0.25 / 300) = 2.89 points, 95 % half-width 1.96 SE = 5.66
    assert (high - low) / 2 == pytest.approx(1.96 * 100 * math.sqrt(0.25 / 300), rel=0.15)
    assert low < 50.0 < high
    assert ci["overall"] == ci["subsets"]["counting_easy"]  # the only subset with items: Overall is its mean
    assert ci["tasks"]["counting"] == ci["subsets"]["counting_easy"] and ci["tasks"]["grounding"] is None
    assert report.intervals(seed=0) == ci and report.intervals(seed=1) != ci  # seeded: same seed, same interval
    assert (ci["level"], ci["resamples"], ci["seed"]) == (0.95, 1000, 0)


def test_overall_interval_is_narrower_than_its_subsets_and_constant_scores_give_a_point():
    per_subset = {"counting_easy": [0.0, 1.0] * 150, "grounding_mirror": [0.0, 1.0] * 150, "jigsaw_easy": [1.0] * 50}
    ci = bootstrap(per_subset, seed=3)
    assert ci["subsets"]["jigsaw_easy"] == [100.0, 100.0]
    width = lambda interval: interval[1] - interval[0]  # noqa: E731
    assert width(ci["overall"]) < width(ci["subsets"]["counting_easy"])  # a mean of independent subsets
    assert ci["overall"][0] < 100 * (0.5 + 0.5 + 1.0) / 3 < ci["overall"][1]
    with pytest.raises(ValueError):
        bootstrap(per_subset, resamples=0)


def test_json_report_has_every_item_score_and_intervals():
    items, responses = half_right("grounding_mirror", 6)
    del responses[items[5].id]  # one missing
    data = json.loads(json.dumps(score_report(items, responses).to_dict()))
    assert [row["id"] for row in data["per_item"]] == [item.id for item in items]
    assert [row["score"] for row in data["per_item"]] == [100.0, 0.0, 100.0, 0.0, 100.0, None]
    assert [row["answered"] for row in data["per_item"]] == [True] * 5 + [False]
    assert data["ci95"]["subsets"]["grounding_mirror"][0] <= data["subsets"]["grounding_mirror"]["score"] <= data["ci95"]["subsets"]["grounding_mirror"][1]
    assert data["parser"] == "paper" and set(data["ci95"]) >= {"subsets", "tasks", "abilities", "overall"}


def test_table_ci_lines_and_the_compare_caveat():
    items, responses = half_right("counting_easy")
    report = score_report(items, responses, label="mine")
    text = format_table([TableRow.from_report(report, ci=True)])
    lines = text.splitlines()
    ci_line = lines[lines.index(next(line for line in lines if line.startswith("mine "))) + 1]
    half = (report.intervals()["subsets"]["counting_easy"][1] - report.intervals()["subsets"]["counting_easy"][0]) / 2
    assert ci_line.startswith(CI_LABEL) and ci_line.split("|")[1].split()[0] == f"{half:.1f}"
    scored = Scored([report], select(["GPT-5"]))
    assert COMPARE_CAVEAT in scored.text() and "2,700 items" in COMPARE_CAVEAT and "in definition" in COMPARE_CAVEAT and "not item for item" in COMPARE_CAVEAT
    assert COMPARE_CAVEAT not in Scored([report], []).text()
    assert "chance (analytic)" in scored.text() and scored.to_dict()["caveat"] == COMPARE_CAVEAT
