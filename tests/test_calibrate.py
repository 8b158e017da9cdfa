"""videossr calibrate: ladders, the search, and end-to-end runs with the synthetic backend whose accuracy falls with difficulty."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from videossr.backends import get_backend
from videossr.backends.synthetic import SyntheticBackend
from videossr.cli import main
from videossr.diagnose import LADDERS, Probe, get_ladder, search
from videossr.diagnose.calibrate import CalibrationSettings, calibrate, rung_recipe
from videossr.recipe import load_recipe, parse_recipe
from videossr.tasks import get_task

SETTINGS = dict(probe_size=12, k=4)


def _curve(rewards):
    """A probe function over a known reward curve (rung -> mean smooth reward), recording calls."""
    calls = []

    def probe(index):
        calls.append(index)
        r = rewards[index]
        return Probe(index=index, label=f"r{index}", questions=10, mean_smooth=r, mean_strict=r, zero_variance_smooth=abs(r - 0.5), zero_variance_strict=0.0)

    return probe, calls


def test_search_climbs_or_descends_to_the_target_and_never_repeats_a_probe():
    falling = [1 - i / 10 for i in range(11)]
    probe, calls = _curve(falling)
    result = search(11, probe, target=0.3, tolerance=0.02, start=2)
    assert result.reached and result.chosen.index == 7 and calls == [2, 3, 5, 9, 7]
    probe, calls = _curve(falling)
    result = search(11, probe, target=0.9, tolerance=0.02, start=8)
    assert result.chosen.index == 1 and calls[0] == 8 and calls[-1] == 1 and len(calls) == len(set(calls))


def test_search_falls_back_to_the_most_signal_when_no_rung_is_close():
    probe, calls = _curve([0.95, 0.9, 0.62, 0.41, 0.2])
    result = search(5, probe, target=0.5, tolerance=0.05, start=0)
    assert not result.reached and "no rung within tolerance" in result.reason
    assert result.chosen.index == 3  # 0.41 is closer to 0.5 than 0.62: less zero-variance in this curve
    probe, calls = _curve([0.3, 0.2, 0.1])
    result = search(3, probe, target=0.8, tolerance=0.05, start=2)
    assert calls == [2, 1, 0] and "easiest rung is still below" in result.reason
    with pytest.raises(ValueError):
        search(3, probe, target=1.5)


def test_every_rung_is_a_valid_recipe_and_the_default_rung_is_the_task_default():
    for task, ladder in LADDERS.items():
        for rung in ladder.rungs:
            parse_recipe(rung_recipe(task, rung, seed=0))
        default = ladder.rungs[ladder.default]
        module = get_task(task)
        assert module.options(default.variant, **default.options) == module.options({"jigsaw": "easy", "counting": "easy", "grounding": "mixed"}[task])
    assert [get_task("jigsaw").options(r.variant).n for r in get_ladder("jigsaw").rungs] == list(range(2, 13))
    assert get_ladder("jigsaw").index("n=8") == get_ladder("jigsaw").index("6") == 6
    counting = [get_task("counting").options(r.variant, **r.options) for r in get_ladder("counting").rungs]
    assert all(a.max_frames <= b.max_frames and a.max_instances <= b.max_instances for a, b in zip(counting, counting[1:]))
    grounding = [get_task("grounding").options(r.variant, **r.options) for r in get_ladder("grounding").rungs]
    assert all(a.max_length >= b.max_length and a.min_length >= b.min_length for a, b in zip(grounding, grounding[1:]))


def _entry_n(recipe_path):
    recipe = load_recipe(recipe_path)
    assert len(recipe.entries) == 1 and recipe.entries[0].task == "jigsaw"
    return get_task("jigsaw").options(recipe.entries[0].variant, **recipe.entries[0].options).n


@pytest.mark.slow
def test_a_model_that_finds_the_default_too_easy_gets_harder_jigsaws(clips_dir, tmp_path):
    lines = []
    cal = calibrate(clips_dir, get_backend("synthetic", skill=8), "jigsaw", out=tmp_path / "hard.yaml", workers=1, progress=False,
                    settings=CalibrationSettings(target=0.5, tolerance=0.1, **SETTINGS), on_probe=lines.append)
    probes = cal.result.probes
    assert probes[0].label == "n=6" and probes[0].mean_smooth > 0.6  # the default is too easy for this model
    assert [p.index for p in probes] == [p.index for p in lines]
    assert cal.result.reached and cal.result.chosen.index > get_ladder("jigsaw").default
    assert _entry_n(tmp_path / "hard.yaml") > 6
    text = (tmp_path / "hard.yaml").read_text()
    assert "# Model: synthetic (skill=8.0" in text and "harder than the default (n=6)" in text
    assert sum(bool(re.match(r"# +\d+  n=", line)) for line in text.splitlines()) == len(probes)  # one comment row per probe
    report = json.loads((tmp_path / "hard.calibrate" / "calibrate.json").read_text())
    assert [p["index"] for p in report["probes"]] == [p.index for p in probes] and report["reached_target"]


class CountingSynthetic(SyntheticBackend):
    """The real synthetic backend, counting the questions it is asked (to see the cache work)."""

    asked = 0

    def generate_iter(self, requests, settings):
        CountingSynthetic.asked += len(requests)
        yield from super().generate_iter(requests, settings)


@pytest.mark.slow
def test_a_model_that_finds_the_default_too_hard_gets_easier_jigsaws_and_the_recipe_builds(clips_dir, tmp_path, capsys):
    settings = CalibrationSettings(target=0.75, tolerance=0.05, **SETTINGS)
    cal = calibrate(clips_dir, CountingSynthetic(skill=2), "jigsaw", out=tmp_path / "easy.yaml", workers=1, progress=False, settings=settings)
    assert cal.result.probes[0].mean_smooth < 0.7
    assert cal.result.reached and cal.result.chosen.index < get_ladder("jigsaw").default
    assert _entry_n(tmp_path / "easy.yaml") < 6
    first_text, asked = (tmp_path / "easy.yaml").read_text(), CountingSynthetic.asked
    calibrate(clips_dir, CountingSynthetic(skill=2), "jigsaw", out=tmp_path / "easy.yaml", workers=1, progress=False, settings=settings)
    assert CountingSynthetic.asked == asked and (tmp_path / "easy.yaml").read_text() == first_text  # all from the cache, same recipe
    body = yaml.safe_load(first_text)
    assert body["entries"] == [{"task": "jigsaw", "variant": f"n{_entry_n(tmp_path / 'easy.yaml')}", "weight": 1}]
    assert main(["build", str(clips_dir), "--out", str(tmp_path / "built"), "--recipe", str(tmp_path / "easy.yaml"), "--workers", "1", "--no-progress"]) == 0
    assert f"jigsaw-n{_entry_n(tmp_path / 'easy.yaml')}" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_calibrate_counting_reports_every_probe(clips_dir, tmp_path, capsys):
    out = tmp_path / "counting.yaml"
    code = main(["calibrate", str(clips_dir), "--backend", "synthetic", "--backend-opt", "skill=9", "--task", "counting", "--target", "0.7",
                 "--tolerance", "0.1", "--probe", "12", "-k", "4", "--out", str(out), "--workers", "1", "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0
    report = json.loads((tmp_path / "counting.calibrate" / "calibrate.json").read_text())
    for p in report["probes"]:
        assert p["label"] in printed
    chosen = load_recipe(out).entries[0]
    assert (chosen.task, report["probes"][0]["label"]) == ("counting", "frames<=3 instances<=3")
    opts = get_task("counting").options(chosen.variant, **chosen.options)
    assert report["chosen"] > report["default"] and (opts.max_frames, opts.max_instances) > (3, 3)
    assert main(["calibrate", str(clips_dir), "--backend", "synthetic", "--task", "jigsaw", "--out", str(tmp_path / "x.txt")]) == 2
    assert main(["calibrate", str(clips_dir), "--backend", "synthetic", "--task", "jigsaw", "--start", "n=99", "--out", str(tmp_path / "y.yaml")]) == 2
    assert "did you mean" in capsys.readouterr().err


class NeverUsable(SyntheticBackend):
    """The synthetic backend made to answer like a model that never gives a usable answer (same text every time)."""

    def generate_iter(self, requests, settings):
        from videossr.backends.base import Generation

        for index, _ in enumerate(requests):
            yield index, Generation(texts=("I cannot tell from the video.",) * settings.n)


def test_calibrate_refuses_a_model_without_reward_variance_and_leaves_nothing(clips_dir, tmp_path, capsys, monkeypatch):
    import videossr.backends.base as base

    monkeypatch.setitem(base._REGISTERED, "never-usable", NeverUsable)
    out = tmp_path / "r.yaml"
    code = main(["calibrate", str(clips_dir), "--backend", "never-usable", "--task", "jigsaw", "--start", "n=2", "--probe", "4", "-k", "2",
                 "--out", str(out), "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "no recipe written" in err and "0% of groups with reward variance" in err
    assert not out.exists() and not (tmp_path / "r.calibrate").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_refused_start_leaves_no_folder(clips_dir, tmp_path, capsys):
    assert main(["calibrate", str(clips_dir), "--backend", "synthetic", "--task", "jigsaw", "--start", "n=99", "--out", str(tmp_path / "y.yaml")]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
