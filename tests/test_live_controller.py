"""The live difficulty controller on report streams whose right decisions are worked out by hand."""

import json

import numpy as np
import pytest

from videossr.errors import UserError
from videossr.live.controller import Controller, ControllerConfig

SOLVED, FAILED = [1.0] * 8, [0.0] * 8
MIXED = [0.0, 1.0, 0.5, 0.5, 0.25, 0.75, 1.0, 0.0]  # mean 0.5, has variance


def controller(rungs=10, start=4, **config):
    return Controller({"jigsaw": rungs}, {"jigsaw": start}, ControllerConfig(**{"min_groups": 4, **config}))


def feed(c, groups, rung=None):
    return [c.report("jigsaw", c.rung("jigsaw") if rung is None else rung, g) for g in groups]


def test_no_decision_before_min_groups_then_one_rung_harder_when_solved():
    c = controller()
    assert feed(c, [SOLVED] * 3) == [None, None, None]
    assert c.rung("jigsaw") == 4
    decision = feed(c, [SOLVED])[0]
    assert (decision.from_rung, decision.to_rung, decision.moved) == (4, 5, True)
    assert decision.evidence.groups == 4 and decision.evidence.mean_reward == 1.0
    assert decision.evidence.zero_variance_share == 1.0 and decision.evidence.zero_variance_solved == 4
    assert "above the band" in decision.reason


def test_too_hard_moves_easier_and_never_more_than_one_rung():
    c = controller()
    feed(c, [[0.1] * 4 + [0.2] * 4] * 4)  # mean 0.15 < 0.35
    assert c.rung("jigsaw") == 3
    assert [(d.from_rung, d.to_rung) for d in c.decisions] == [(4, 3)]


def test_inside_band_with_variance_holds_and_clears_the_window():
    c = controller()
    feed(c, [MIXED] * 4)
    assert c.rung("jigsaw") == 4 and c.decisions[-1].reason == "inside the band" and not c.decisions[-1].moved
    assert feed(c, [SOLVED] * 3) == [None] * 3  # fresh evidence needed: the 4 mixed groups are not reused


def test_zero_variance_inside_the_band_moves_towards_the_flat_groups_side():
    c = controller()
    # mean (3 x 1.0 + 1 x 0.0) / 4 = 0.75: inside the band (upper bound 0.75 is not "above"); all 4 groups flat,
    # 3 solved vs 1 failed -> harder
    feed(c, [SOLVED, SOLVED, FAILED, SOLVED])
    assert (c.decisions[-1].from_rung, c.decisions[-1].to_rung) == (4, 5)
    assert c.decisions[-1].evidence.zero_variance_share == 1.0
    # mean 0.5 (2 solved, 2 failed, all flat): a tie goes harder
    feed(c, [SOLVED, FAILED, FAILED, SOLVED])
    assert c.rung("jigsaw") == 6
    # 1 solved, 3 failed but mean pushed into the band by variance-free groups at 0.4: failed side -> easier
    feed(c, [SOLVED, [0.4] * 8, [0.4] * 8, [0.4] * 8])
    assert c.rung("jigsaw") == 5


def test_stale_reports_are_counted_not_used():
    c = controller()
    feed(c, [SOLVED] * 10, rung=2)
    assert c.decisions == [] and c.state()["tasks"]["jigsaw"]["stale"] == 10


def test_clamped_at_the_ends_of_the_ladder():
    c = controller(rungs=3, start=2)
    feed(c, [SOLVED] * 4)
    assert c.rung("jigsaw") == 2 and "end of the ladder" in c.decisions[-1].reason
    c = controller(rungs=3, start=0)
    feed(c, [FAILED] * 4)
    assert c.rung("jigsaw") == 0


def _stream(seed, n=400):
    rng = np.random.default_rng(seed)
    return [(str(rng.choice(["jigsaw", "counting"])), np.clip(rng.normal(rng.uniform(0, 1), 0.2, size=8), 0, 1).tolist()) for _ in range(n)]


def _run(c, stream):
    for i, (task, rewards) in enumerate(stream):
        if i % 32 == 0:
            c.advance()
        c.report(task, c.rung(task), rewards)
    return c


def test_resume_mid_run_gives_the_same_decisions():
    stream = _stream(1)
    config = ControllerConfig(min_groups=8)
    whole = _run(Controller.for_tasks(["jigsaw", "counting"], config), stream)
    first = _run(Controller.for_tasks(["jigsaw", "counting"], config), stream[:173])
    resumed = Controller.from_state(json.loads(json.dumps(first.state())))
    for task, rewards in stream[173:]:
        resumed.report(task, resumed.rung(task), rewards)
    # the step counter is not advanced after the split in `resumed`; compare everything else
    strip = [(d.task, d.from_rung, d.to_rung, d.reason, d.evidence) for d in whole.decisions]
    assert [(d.task, d.from_rung, d.to_rung, d.reason, d.evidence) for d in resumed.decisions] == strip
    assert resumed.rungs() == whole.rungs() and len(strip) > 10


def test_same_reports_same_decisions():
    a = _run(Controller.for_tasks(["jigsaw", "counting"]), _stream(7))
    b = _run(Controller.for_tasks(["jigsaw", "counting"]), _stream(7))
    assert a.state() == b.state() and a.decisions


def test_noise_around_a_good_setting_never_moves():
    # groups whose means scatter around 0.55 (sd 0.1) with variance inside: a mean of 16 groups has sd 0.025,
    # the band edges are 8 sd away, so a controller that waits for evidence holds every time
    rng = np.random.default_rng(3)
    c = Controller.for_tasks(["counting"])
    for _ in range(16 * 40):
        centre = float(np.clip(rng.normal(0.55, 0.1), 0.1, 0.9))
        c.report("counting", c.rung("counting"), np.clip(rng.normal(centre, 0.15, size=8), 0, 1).tolist())
    assert len(c.decisions) == 40 and not any(d.moved for d in c.decisions)


@pytest.mark.parametrize("config", [dict(band=(0.8, 0.2)), dict(band=(float("nan"), 0.5)), dict(min_groups=0),
                                    dict(max_zero_variance=float("inf")), dict(saturated=2.0)])
def test_bad_config_is_a_user_error(config):
    with pytest.raises(UserError):
        ControllerConfig(**config)


def test_bad_reports_are_refused():
    c = controller()
    with pytest.raises(ValueError):
        c.report("counting", 0, SOLVED)
    with pytest.raises(ValueError):
        c.report("jigsaw", 4, [float("nan")] * 8)
    with pytest.raises(UserError):
        Controller.from_state({"format": "something-else"})


def test_simulated_learner_is_seeded_and_the_bench_writes_its_json(tmp_path):
    import sys
    from pathlib import Path

    from videossr.live.simulate import SimConfig, run_arm

    cfg = SimConfig(steps=6, prompts=10, probe_questions=16)
    first, again = run_arm("live", cfg), run_arm("live", cfg)
    assert first.as_dict() == again.as_dict() and len(first.series["skill"]) == 6
    assert first.series["skill"][-1] > first.series["skill"][0]  # groups with variance taught it something
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_live

    assert bench_live.main(["--steps", "3", "--prompts", "6", "--json", str(tmp_path / "live.json")]) == 0
    arms = json.loads((tmp_path / "live.json").read_text())["arms"]
    assert sorted(arms) == ["calibrated", "live", "static"]
    assert all(len(a["series"]["zero_variance_share"]) == 3 and 0 <= a["zero_variance_share"] <= 1 for a in arms.values())
