"""Recipes are bounded before any decoding (issue 17, Found 3): every number has a range, NaN and
infinity are refused, the samples a build makes without --size are capped, YAML alias bombs are
refused before expansion, and error lines quote at most a short piece of a value."""

import subprocess
import sys
import time

import pytest

from videossr.build import build
from videossr.errors import UserError
from videossr.recipe import MAX_DEFAULT_SAMPLES, load_recipe, parse_recipe

ENTRY = {"task": "grounding", "variant": "invert"}


def _refused(**top) -> str:
    data = {"entries": [ENTRY], **top}
    with pytest.raises(ValueError) as caught:
        parse_recipe(data)
    message = str(caught.value)
    assert len(message) < 400 and "\n" not in message, message
    return message


def _alias_bomb(levels: int = 9, fan: int = 9) -> str:
    lines = ["name: bomb", "entries:", f"  - &a0 [{', '.join(['x'] * fan)}]"]
    lines += [f"  - &a{k} [{', '.join([f'*a{k - 1}'] * fan)}]" for k in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly_in_one_short_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb())  # ~400 bytes naming 9**9 = 387,420,489 values
    assert path.stat().st_size < 600
    start = time.monotonic()
    with pytest.raises(UserError) as caught:
        load_recipe(path)
    assert time.monotonic() - start < 5
    assert "expands to more than" in str(caught.value) and len(str(caught.value)) < 200
    result = subprocess.run([sys.executable, "-m", "videossr", "build", str(tmp_path), "--out", str(tmp_path / "out"), "--recipe", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and len(result.stderr) < 300 and result.stderr.startswith("error:"), result.stderr[:300]


def test_a_few_aliases_still_work(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("name: ok\nentries:\n  - {task: grounding, variant: invert, options: &o {min_length: 4, max_length: 8}}\n"
                    "  - {task: grounding, variant: mirror, options: *o}\n")
    recipe = load_recipe(path)
    assert [e.options for e in recipe.entries] == [{"min_length": 4, "max_length": 8}] * 2


@pytest.mark.parametrize("options", [{"max_instances": 1_000_000_000}, {"max_frames": 10**12}])
def test_huge_counting_options_are_refused(options):
    with pytest.raises(ValueError, match="must be in"):
        parse_recipe({"entries": [{"task": "counting", "variant": "easy", "options": options}]})


@pytest.mark.parametrize("value", [1e23, 10**23, 4096 * 4096 + 1, 0])
def test_training_pixels_have_a_range(value):
    assert "training_pixels.max_pixels" in _refused(training_pixels={"max_pixels": value})


@pytest.mark.parametrize("weight", [float("inf"), float("-inf"), float("nan"), 1e308, 0, -1, True, "1"])
def test_weights_must_be_finite_and_bounded(weight):
    assert "weight" in _refused(entries=[{**ENTRY, "weight": weight}])


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), 1e300])
def test_thresholds_must_be_finite(threshold):
    assert "min_visible_diff" in _refused(entries=[{**ENTRY, "options": {"min_visible_diff": threshold}}])


@pytest.mark.parametrize("sampling", [{"num_frames": 10**6}, {"max_pixels": 10**12}, {"min_side": 10**6},
                                      {"num_frames": 4096, "max_pixels": 4096 * 4096}])
def test_sampling_numbers_have_a_range(sampling):
    assert "sampling" in _refused(sampling=sampling)


def test_tiny_weight_beside_one_does_not_ask_for_billions(tmp_path):
    recipe = parse_recipe({"entries": [{**ENTRY, "weight": 1e-9}, {"task": "grounding", "variant": "mirror", "weight": 1}]})
    with pytest.raises(UserError, match="--size"):
        recipe.allocate(7)
    src = tmp_path / "src"
    src.mkdir()
    for k in range(7):  # not videos: the refusal must come before anything is opened
        (src / f"v{k}.mp4").write_bytes(b"not a video")
    with pytest.raises(UserError, match=f"limit without --size is {MAX_DEFAULT_SAMPLES:,}"):
        build(src, tmp_path / "out", recipe, workers=1, progress=False)
    assert not (tmp_path / "out/store/skips").exists() and not (tmp_path / "out/train.parquet").exists()
    assert sum(recipe.allocate(7, size=10).values()) == 10  # --size says otherwise


def test_long_values_are_quoted_short():
    assert len(_refused(name="x" * 10**6)) < 300
    assert len(_refused(entries=[{"task": "g" * 10**6, "variant": "invert"}])) < 300
    assert len(_refused(entries=[ENTRY], sampling={"n" * 10**6: 1})) < 300


def test_builtin_recipes_are_within_bounds():
    for name in ("videossr30k", "all-tasks", "viubench"):
        load_recipe(name).default_size(1000)
