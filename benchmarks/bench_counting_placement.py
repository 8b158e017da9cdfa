"""Counting placement of a 300-per-subset VIUBench build vs an independent simulation of the paper's rule.

    python benchmarks/bench_counting_placement.py                       # the bundled sample clips
    python benchmarks/bench_counting_placement.py --videos DIR --per-subset 300
    python benchmarks/bench_counting_placement.py --bench BENCH         # the items of a real build

Without ``--bench`` the counting params of the build are drawn exactly as ``videossr viubench
build`` draws them (the VIUBench recipe, the build plan's video per sample, each sample's seed)
on frames of each video's stored size (48 frames sampled per video, nothing drawn or written),
for the recipe's own placement and for ``placement: separated``. With ``--bench`` the params are
read from ``BENCH/items.jsonl`` and the frame size from each item's first frame.

For every frame with 2 or more instances it checks whether two instances overlap (exact
geometry, tests/placement_sim.py), and compares the share with the same frames simulated
``--repeats`` times by tests/placement_sim.py, written from PAPER.md's words, not from the
generator. It also counts centres outside the central-box rule and shapes that cross the box.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from placement_sim import frame_has_overlap, outline, simulated_overlap_share  # noqa: E402


def stored_sizes(video_dir: Path, recipe) -> dict[str, tuple[int, int]]:
    """{video id: (width, height)} of the frames a build stores for each usable video."""
    from videossr.discover import find_videos
    from videossr.sampling import SkipVideo, sample_video

    sizes = {}
    for video in find_videos(video_dir):
        try:
            frames = sample_video(video.path, recipe.sampling, video_id=video.video_id).frames
        except SkipVideo:
            continue
        sizes[video.video_id] = (int(frames.shape[2]), int(frames.shape[1]))
    return sizes


def planned_params(sizes: dict[str, tuple[int, int]], per_subset: int, seed: int, placement: str | None) -> list[tuple[str, int, int, dict]]:
    """(variant, width, height, params) of every counting sample of the build, round 0 of its plan."""
    import numpy as np

    from videossr.plan import assignments
    from videossr.recipe import load_recipe
    from videossr.seeding import rng_for
    from videossr.tasks import SampleContext, counting
    from videossr.viubench.subsets import RECIPE_NAME, SUBSETS

    recipe = load_recipe(RECIPE_NAME)
    videos = sorted(sizes)
    out = []
    for a in assignments(recipe, len(videos), len(SUBSETS) * per_subset):
        if a.entry.task != "counting":
            continue
        video_id = videos[a.position % len(videos)]
        width, height = sizes[video_id]
        options = {**a.entry.options, **({"placement": placement} if placement else {})}
        frames = np.broadcast_to(np.zeros((1, 1, 1, 3), np.uint8), (recipe.sampling.num_frames, height, width, 3))
        ctx = SampleContext(video_id, frames, 1.0)
        params = counting.draw_params(rng_for(seed, video_id, "counting", a.entry.variant, a.index), ctx, counting.options(a.entry.variant, **options))
        out.append((a.entry.variant, width, height, params))
    return out


def bench_params(bench: Path) -> list[tuple[str, int, int, dict]]:
    from PIL import Image

    out = []
    for line in (bench / "items.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["task"] == "counting":
            with Image.open(bench / item["clips"][0][0]) as image:
                out.append((item["variant"], image.width, image.height, item["params"]))
    return out


def _crosses_box(shape: str, inst: dict, width: int, height: int) -> bool:
    left, right, top, bottom = 0.15 * width, 0.85 * width, 0.15 * height, 0.85 * height
    if shape == "circle":
        r = inst["size"] / 2
        points = [(inst["cx"] - r, inst["cy"] - r), (inst["cx"] + r, inst["cy"] + r)]
    else:
        points = outline(shape, inst["cx"], inst["cy"], inst["size"], inst["rotation_deg"])
    return any(not (left <= x <= right and top <= y <= bottom) for x, y in points)


def _outside_rule(inst: dict, width: int, height: int) -> bool:
    """The centre breaks the paper's rule: outside the box shrunk by int(0.75 x size) when that box exists."""
    margin = int(0.75 * inst["size"])
    left, right, top, bottom = 0.15 * width + margin, 0.85 * width - margin, 0.15 * height + margin, 0.85 * height - margin
    if left > right or top > bottom:
        left, right, top, bottom = margin, width - margin, margin, height - margin
    return not (left - 0.01 <= inst["cx"] <= right + 0.01 and top - 0.01 <= inst["cy"] <= bottom + 0.01)


def measure(samples: list[tuple[str, int, int, dict]], repeats: int) -> dict[str, dict]:
    stats = {}
    for variant in sorted({s[0] for s in samples}):
        frames, instances, outside, crossing = [], 0, 0, 0
        for v, width, height, params in samples:
            if v != variant:
                continue
            for p in params["placements"]:
                instances += len(p["instances"])
                outside += sum(_outside_rule(i, width, height) for i in p["instances"])
                crossing += sum(_crosses_box(p["shape"], i, width, height) for i in p["instances"])
                if len(p["instances"]) >= 2:
                    frames.append((width, height, p["shape"], [(i["cx"], i["cy"], i["size"], i["rotation_deg"]) for i in p["instances"]]))
        ours = sum(frame_has_overlap(shape, inst) for _, _, shape, inst in frames) / len(frames)
        simulated = simulated_overlap_share([(w, h, shape, len(inst)) for w, h, shape, inst in frames], repeats=repeats)
        stats[variant] = {"items": sum(1 for s in samples if s[0] == variant), "instances": instances, "multi_instance_frames": len(frames),
                          "overlap_share": ours, "simulated_share": simulated, "ratio": ours / simulated if simulated else math.inf,
                          "centres_outside_rule": outside, "shapes_crossing_box": crossing}
    return stats


def main(argv=None) -> int:
    from videossr.demo import sample_videos_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, default=None, help="video folder (default: the bundled sample clips)")
    parser.add_argument("--bench", type=Path, default=None, help="measure the items of this VIUBench folder instead")
    parser.add_argument("--per-subset", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=20, help="simulated frames per measured frame")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    runs = {}
    if args.bench:
        runs[f"build {args.bench}"] = bench_params(args.bench)
    else:
        from videossr.recipe import load_recipe
        from videossr.viubench.subsets import RECIPE_NAME

        sizes = stored_sizes(args.videos or sample_videos_dir(), load_recipe(RECIPE_NAME))
        print("frame sizes: " + ", ".join(f"{v} {w}x{h}" for v, (w, h) in sorted(sizes.items())))
        runs["recipe (paper)"] = planned_params(sizes, args.per_subset, args.seed, None)
        runs["separated"] = planned_params(sizes, args.per_subset, args.seed, "separated")
    width = max(16, *(len(name) for name in runs))
    print(f"{'placement':<{width}} {'variant':<6} {'items':>6} {'inst':>6} {'frames>=2':>9} {'overlap':>8} {'simulated':>9} {'ratio':>6} "
          f"{'off-rule':>8} {'cross box':>9}")
    results = {}
    for name, samples in runs.items():
        results[name] = measure(samples, args.repeats)
        for variant, s in results[name].items():
            print(f"{name:<{width}} {variant:<6} {s['items']:>6} {s['instances']:>6} {s['multi_instance_frames']:>9} {100 * s['overlap_share']:>7.1f}% "
                  f"{100 * s['simulated_share']:>8.1f}% {s['ratio']:>6.2f} {s['centres_outside_rule']:>8} {s['shapes_crossing_box']:>9}")
    print(f"({time.perf_counter() - started:.1f} s; overlap: share of frames with 2+ instances where two overlap; simulated: "
          f"the same frames under tests/placement_sim.py, {args.repeats} draws each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
