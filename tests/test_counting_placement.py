"""Counting placement against an independent simulation of the paper's rule (tests/placement_sim.py).

The generator's params are drawn exactly as a build draws them (``rng_for(seed, video, task,
variant, index)``) on frames of the bundled sample clips' stored sizes; no frame is decoded or
drawn, so 300 items per variant take well under a second.
"""

import numpy as np
import pytest

from placement_sim import frame_has_overlap, simulated_overlap_share
from videossr.recipe import load_recipe
from videossr.seeding import rng_for
from videossr.tasks import SampleContext, counting

# stored (width, height) of the 4 bundled clips at VIUBench's 512x512 pixel limit, in build order
# (bigbuckbunny 1280x720, bikes 640x272, carphone 176x144 with its pixel aspect applied), as bench_counting_placement.py prints them
SAMPLE_SIZES = [("bigbuckbunny", 682, 384), ("bikes", 640, 272), ("carphone_distorted", 193, 144), ("carphone_pristine", 193, 144)]


def context(video_id: str, width: int, height: int) -> SampleContext:
    """48 frames of the given size without the memory (draw_params only reads the shape)."""
    return SampleContext(video_id, np.broadcast_to(np.zeros((1, 1, 1, 3), np.uint8), (48, height, width, 3)), 4.8)


def generated(variant: str, items: int, **overrides) -> list[tuple[int, int, dict]]:
    """(width, height, params) of ``items`` counting samples spread round-robin over the sample sizes."""
    opts = counting.options(variant, **overrides)
    out = []
    for index in range(items):
        video_id, width, height = SAMPLE_SIZES[index % len(SAMPLE_SIZES)]
        params = counting.draw_params(rng_for(0, video_id, "counting", variant, index), context(video_id, width, height), opts)
        out.append((width, height, params))
    return out


def multi_instance_frames(samples):
    """(width, height, shape, [(x, y, size, rotation), ...]) of every frame with 2 or more instances."""
    return [(w, h, p["shape"], [(i["cx"], i["cy"], i["size"], i["rotation_deg"]) for i in p["instances"]])
            for w, h, params in samples for p in params["placements"] if len(p["instances"]) >= 2]


def test_the_simulation_reproduces_the_papers_overlap_figure():
    # PAPER.md: two of three circles overlap in about 65 % of frames at 682x384
    assert 0.60 <= simulated_overlap_share([(682, 384, "circle", 3)], repeats=3000) <= 0.70


@pytest.mark.parametrize("variant", ["easy", "hard"])
def test_paper_placement_overlaps_as_often_as_the_simulation(variant):
    frames = multi_instance_frames(generated(variant, 300))
    ours = sum(frame_has_overlap(shape, inst) for _, _, shape, inst in frames) / len(frames)
    simulated = simulated_overlap_share([(w, h, shape, len(inst)) for w, h, shape, inst in frames], repeats=5)
    assert len(frames) > 400
    assert 1 / 1.4 <= ours / simulated <= 1.4, (ours, simulated)


def test_separated_placement_never_overlaps():
    frames = multi_instance_frames(generated("hard", 120, placement="separated"))
    assert not any(frame_has_overlap(shape, inst) for _, _, shape, inst in frames)


def _check_centres(samples, size_range):
    in_box = whole_frame = 0
    for width, height, params in samples:
        assert params["placement"] == "paper"
        for p in params["placements"]:
            for inst in p["instances"]:
                size, x, y = inst["size"], inst["cx"], inst["cy"]
                assert size == int(size) and int(size_range[0] * min(width, height)) <= size <= size_range[1] * min(width, height)
                margin = int(0.75 * size)
                left, top = 0.15 * width + margin, 0.15 * height + margin
                right, bottom = 0.85 * width - margin, 0.85 * height - margin
                if left <= right and top <= bottom:  # the box holds the margin: the centre is inside it
                    assert left - 0.01 <= x <= right + 0.01 and top - 0.01 <= y <= bottom + 0.01, (width, height, inst)
                    in_box += 1
                else:  # the whole frame with that margin
                    assert margin - 0.01 <= x <= width - margin + 0.01 and margin - 0.01 <= y <= height - margin + 0.01, (width, height, inst)
                    whole_frame += 1
    return in_box, whole_frame


@pytest.mark.parametrize("variant", ["easy", "hard"])
def test_every_centre_obeys_the_central_box_rule(variant):
    in_box, whole_frame = _check_centres(generated(variant, 300), (0.2, 0.4))
    assert in_box > 1000 and whole_frame == 0  # at 20-40 % of the shorter side the box always holds the margin


def test_a_box_too_small_for_the_margin_falls_back_to_the_whole_frame():
    # sizes 50-55 % of 384 = 192-211 px, margins 144-158: more than half the box height (268.8 px) but the frame holds them
    opts = counting.options("hard", size_range=[0.5, 0.55])
    samples = [(682, 384, counting.draw_params(rng_for(1, "wide", "counting", "hard", k), context("wide", 682, 384), opts)) for k in range(40)]
    in_box, whole_frame = _check_centres(samples, (0.5, 0.55))
    assert whole_frame > 100 and in_box == 0


def test_placement_option_and_recipes():
    with pytest.raises(ValueError, match="placement must be one of paper, separated"):
        counting.options("easy", placement="random")
    assert counting.options("easy").placement == "paper"
    for name in ("viubench", "videossr30k"):
        entries = [e for e in load_recipe(name).entries if e.task == "counting"]
        assert entries and all(e.options.get("placement") == "paper" for e in entries)
