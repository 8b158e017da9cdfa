"""The demo ends with a small VIUBench scored with the random baseline."""

import json

import pytest

from videossr.cli import main
from videossr.demo import DEMO_PER_SUBSET
from videossr.viubench import BENCH_VERSION, SUBSETS, load_items


@pytest.mark.slow
def test_demo_builds_a_small_viubench_and_prints_the_random_baseline_table(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--workers", "2", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"VIUBench {BENCH_VERSION} (percent" in printed and "VideoSSR-8B (paper)" in printed
    row = next(line for line in printed.splitlines() if line.startswith("random "))
    assert row.count("|") == 4  # the label and the three task groups, then Overall
    items = load_items(out / "viubench")
    assert [i.subset for i in items] == [s for s in SUBSETS for _ in range(DEMO_PER_SUBSET)]
    report = json.loads((out / "viubench" / "random-report.json").read_text(encoding="utf-8"))
    (scored,) = report["reports"]
    assert scored["items"] == len(items) and scored["missing"] == 0 and scored["unparsable"] == 0
    assert report["viubench_version"] == BENCH_VERSION and 0.0 <= scored["overall"] <= 100.0
