import re
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

from videossr import perturbations
from videossr.seeding import stable_seed
from videossr.tasks import SampleContext, SkipSample, make_sample
from videossr.tasks import counting, jigsaw
from videossr.tasks.base import frames_of, mean_abs_diff


@pytest.fixture(scope="module")
def ctx(sampled_clips):
    bikes, donor = sampled_clips["bikes"], sampled_clips["carphone_pristine"]
    return SampleContext("bikes", bikes.frames, bikes.info.sample_fps, donor_ids=("carphone_pristine",), load_frames=lambda vid: donor.frames)


@pytest.mark.parametrize("name", sorted(perturbations.REGISTRY))
def test_each_perturbation_changes_exactly_its_segment(ctx, name):
    for index in range(3):
        s = make_sample(ctx, "grounding", name, index, seed=7)
        refs = s.clips[0]
        start, length = s.params["start_frame"], s.params["length_frames"]
        assert 8 <= length <= 16 and 0 <= start <= 48 - length
        assert len(refs) == 48
        outside = [i for i in range(48) if not start <= i < start + length]
        assert all(isinstance(refs[i], int) and refs[i] == i for i in outside)
        shown = frames_of(refs, ctx.frames)
        assert shown.shape == ctx.frames.shape
        segment = refs[start : start + length]
        if perturbations.get(name).temporal:
            assert all(isinstance(r, int) and 0 <= r < 48 for r in segment)
            assert list(segment) != list(range(start, start + length))
        else:
            assert all(isinstance(r, np.ndarray) for r in segment)
            assert all(mean_abs_diff(shown[i], ctx.frames[i]) >= 2.0 for i in range(start, start + length))
        fps = ctx.sample_fps
        assert s.answer == f"{start / fps:.1f}-{(start + length) / fps:.1f}"
        assert perturbations.get(name).description in s.question


# words that describe how a perturbed frame looks or feels rather than what was done to it
VISUAL_CUES = ("black", "border", "shrunk", "surround", "like", "suddenly", "upside", "heavy", "scrambled", "becomes", "stutter", "lose")


@pytest.mark.parametrize("name", sorted(perturbations.REGISTRY))
def test_questions_name_what_was_done_to_the_segment_not_what_to_look_for(name):
    what = perturbations.get(name).description
    # one passive clause, the same form for every perturbation: "<what> is|are <done>"
    assert re.fullmatch(r"(the|a|Gaussian) [a-z0-9 ]+ (is|are) [a-z0-9 -]+", what), what
    assert not any(cue in what.lower() for cue in VISUAL_CUES), what
    question = make_question(name)
    assert what in question and question.count("segment") == 2


def make_question(name):
    from videossr.tasks import grounding

    return grounding.render_question({"perturbation": name, "start_frame": 0, "length_frames": 8})


def test_zoom_out_question_gives_no_hint_the_others_do_not_get():
    question = make_question("zoom_out")
    assert "zoomed out" in question and "black" not in question and "border" not in question
    assert make_question("zoom_in").replace("zoomed in", "zoomed out") == question  # same sentence, the operation swapped


def _segment(ctx, name, seed=3):
    s = make_sample(ctx, "grounding", name, 0, seed=seed)
    a, b = s.params["start_frame"], s.params["start_frame"] + s.params["length_frames"]
    return s, a, b, frames_of(s.clips[0], ctx.frames)


def test_pixel_perturbations_do_what_they_say(ctx):
    f = ctx.frames
    s, a, b, shown = _segment(ctx, "channel_swap")
    assert np.array_equal(shown[a:b], f[a:b, ..., ::-1])
    s, a, b, shown = _segment(ctx, "mirror")
    assert np.array_equal(shown[a:b], f[a:b, :, ::-1])
    s, a, b, shown = _segment(ctx, "rotate180")
    assert np.array_equal(shown[a:b], f[a:b, ::-1, ::-1])
    s, a, b, shown = _segment(ctx, "invert")
    assert np.array_equal(shown[a:b], 255 - f[a:b])
    s, a, b, shown = _segment(ctx, "grayscale")
    assert np.array_equal(shown[a:b, ..., 0], shown[a:b, ..., 2])
    s, a, b, shown = _segment(ctx, "zoom_out")
    assert shown[a:b, 0].max() == 0 and shown[a:b, :, 0].max() == 0  # black border
    s, a, b, shown = _segment(ctx, "rotate90")  # landscape rotated and fitted: black bars left and right
    assert shown[a:b, :, :5].max() == 0 and shown[a:b, :, -5:].max() == 0
    s, a, b, shown = _segment(ctx, "noise")
    diff = shown[a:b].astype(float) - f[a:b]
    assert 25 < diff.std() < 75 and 35 <= s.params["sigma"] <= 70
    s, a, b, shown = _segment(ctx, "zoom_in")
    assert 1.3 <= s.params["zoom"] <= 1.5
    s, a, b, shown = _segment(ctx, "swap")
    assert s.params["donor_video_id"] == "carphone_pristine"


def test_temporal_perturbations_reorder_within_bounds(ctx):
    s, a, b, _ = _segment(ctx, "shuffle")
    assert sorted(s.clips[0][a:b]) == list(range(a, b))
    s, a, b, _ = _segment(ctx, "stutter_hold")
    assert len(set(s.clips[0][a:b])) == s.params["held_frames"] and 2 <= s.params["held_frames"] <= 5
    s, a, b, _ = _segment(ctx, "slow")
    assert list(s.clips[0][a:b]) == [a + i // 2 for i in range(b - a)]
    s, a, b, _ = _segment(ctx, "fast")
    assert list(s.clips[0][a:b]) == [min(47, a + 2 * i) for i in range(b - a)]
    assert "slow" not in perturbations.default_pool() and "fast" not in perturbations.default_pool()


def test_segment_length_and_position_are_overridable(ctx):
    for index in range(10):
        s = make_sample(ctx, "grounding", "mirror", index, seed=4, overrides={"min_length": 4, "max_length": 5, "start_range": [30, 35]})
        assert 4 <= s.params["length_frames"] <= 5 and 30 <= s.params["start_frame"] <= 35
    with pytest.raises(ValueError, match="start_range"):
        make_sample(ctx, "grounding", "mirror", 0, seed=4, overrides={"start_range": [9, 2]})


def test_registry_refuses_duplicates_and_suggests_names():
    with pytest.raises(ValueError, match="already registered"):
        perturbations.register(perturbations.get("mirror"))
    with pytest.raises(KeyError, match="did you mean 'mirror'"):
        perturbations.get("miror")


def _count_regions(params, shape_hw):
    """Draw each placement on a black frame and count connected regions."""
    per_frame = {}
    for p in params["placements"]:
        canvas = counting.draw_shapes(np.zeros((*shape_hw, 3), np.uint8), p)
        _, regions = ndimage.label(canvas.max(axis=-1) > 0, structure=np.ones((3, 3)))  # 8-connected
        per_frame[p["frame"]] = (regions, len(p["instances"]), p["shape"])
    return per_frame


@pytest.mark.parametrize("placement", ["paper", "separated"])
@pytest.mark.parametrize("variant,max_total", [("easy", 9), ("hard", 16)])
def test_counting_answer_matches_the_shapes_drawn(ctx, variant, max_total, placement):
    h, w = ctx.frames.shape[1:3]
    for index in range(40):
        s = make_sample(ctx, "counting", variant, index, seed=1, overrides={"placement": placement})
        assert s.params["placement"] == placement
        regions = _count_regions(s.params, (h, w))
        if placement == "separated":  # shapes never touch: one connected region per instance
            assert all(found == expected for found, expected, _ in regions.values())
        else:  # the paper's placement lets shapes overlap: overlapping instances merge into one region
            assert all(1 <= found <= expected for found, expected, _ in regions.values())
        totals = {sh: sum(n for _, n, shape in regions.values() if shape == sh) for sh in counting.SHAPES}
        assert s.answer == f"{totals['circle']},{totals['square']},{totals['triangle']}"
        assert all(1 <= totals[sh] <= max_total for sh in counting.SHAPES)
        frames_by_shape = {}
        for p in s.params["placements"]:
            frames_by_shape.setdefault(p["shape"], []).append(p["frame"])
        all_frames = [f for fs in frames_by_shape.values() for f in fs]
        assert len(all_frames) == len(set(all_frames))  # one shape type per frame
        for fs in frames_by_shape.values():
            assert all(abs(x - y) > 8 for i, x in enumerate(fs) for y in fs[i + 1 :])
        for i, ref in enumerate(s.clips[0]):
            assert isinstance(ref, np.ndarray) == (i in all_frames)
            if isinstance(ref, np.ndarray):
                assert mean_abs_diff(ref, ctx.frames[i]) > 0
        for p in s.params["placements"]:
            for inst in p["instances"]:
                assert 0.15 * w - 1 <= inst["cx"] <= 0.85 * w + 1 and 0.15 * h - 1 <= inst["cy"] <= 0.85 * h + 1
                assert inst["size"] <= 0.4 * min(h, w) + 1e-6
                assert all(50 <= c <= 255 for c in inst["color"])


def test_counting_custom_options(ctx):
    s = make_sample(ctx, "counting", "easy", 0, seed=1, overrides={"shapes": ["circle"], "max_frames": 1, "max_instances": 1})
    assert s.answer == "1,0,0"
    with pytest.raises(ValueError, match="unknown option"):
        make_sample(ctx, "counting", "easy", 0, seed=1, overrides={"max_frame": 2})


@pytest.mark.parametrize("n", range(2, 13))
def test_jigsaw_answer_restores_the_original_order(ctx, n):
    s = make_sample(ctx, "jigsaw", f"n{n}", 0, seed=5)
    assert len(s.clips) == n and s.params["clip_length"] == 48 // n
    order = [int(x) for x in (s.answer.split(",") if n >= 10 else s.answer)]
    assert sorted(order) == list(range(1, n + 1)) and order != list(range(1, n + 1))
    restored = [ref for k in order for ref in s.clips[k - 1]]
    assert restored == list(range(n * (48 // n)))
    assert s.new_frame_count() == 0


def test_jigsaw_presets_and_bounds(ctx):
    assert make_sample(ctx, "jigsaw", "easy", 0, seed=0).params["n"] == 6
    assert make_sample(ctx, "jigsaw", "hard", 0, seed=0).params["n"] == 8
    with pytest.raises(ValueError):
        jigsaw.JigsawOptions(n=13)


def test_same_seed_same_sample_new_seed_different(ctx):
    for task, variant in [("grounding", "mixed"), ("counting", "hard"), ("jigsaw", "easy"), ("grounding", "noise")]:
        a, b = make_sample(ctx, task, variant, 4, seed=11), make_sample(ctx, task, variant, 4, seed=11)
        assert a.params == b.params and a.answer == b.answer and a.question == b.question
        assert all(np.array_equal(frames_of(x, ctx.frames), frames_of(y, ctx.frames)) for x, y in zip(a.clips, b.clips))
        others = [make_sample(ctx, task, variant, 4, seed=s).params for s in range(12, 16)]
        assert any(p != a.params for p in others)


def test_seed_is_stable_across_processes():
    here = stable_seed(0, "video", "grounding", "mirror", 3)
    code = "from videossr.seeding import stable_seed; print(stable_seed(0, 'video', 'grounding', 'mirror', 3))"
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout
    assert int(there) == here


def _variants(source):
    return {
        "portrait": np.ascontiguousarray(source[:, :, :150]),  # 272 x 150
        "tiny": np.ascontiguousarray(source[:, :32, :32]),
        "gray": np.repeat(source.mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1),
    }


def test_portrait_tiny_and_grayscale_sources(ctx):
    for label, frames in _variants(ctx.frames).items():
        small = SampleContext(label, frames, ctx.sample_fps)
        for task, variant in [("grounding", "mirror"), ("grounding", "rotate90"), ("grounding", "zoom_out"), ("counting", "hard"), ("jigsaw", "hard")]:
            s = make_sample(small, task, variant, 0, seed=2)
            assert all(frames_of(c, frames).shape[1:] == frames.shape[1:] for c in s.clips), (label, variant)
    gray = SampleContext("gray", _variants(ctx.frames)["gray"], ctx.sample_fps)
    for invisible in ("grayscale", "channel_swap"):
        with pytest.raises(SkipSample, match="no visible change"):
            make_sample(gray, "grounding", invisible, 0, seed=2)
    with pytest.raises(SkipSample, match="borrow"):
        make_sample(gray, "grounding", "swap", 0, seed=2)
