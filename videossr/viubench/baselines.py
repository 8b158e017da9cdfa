"""Model-free baselines: seeded guesses over each subset's answer space, as a predictions file.

``random``: a uniform guess over what the subset can produce:
  counting  each of the 3 counts uniform over 1..max_frames*max_instances of the variant
            (easy 1..9, hard 1..16); a guess independent of the truth hits each shape with
            probability 1/9 (easy) or 1/16 (hard) whatever the true counts are;
  jigsaw    a uniform random permutation of the n clips (easy n=6, hard n=8): exact with
            probability 1/n! (1/720, 1/40320);
  grounding a uniform random interval on the video's time axis [0, D] (D = frames/sample_fps,
            on the answer's 0.1 s grid): two distinct grid points drawn uniformly, sorted.
``whole-video``: the full time axis ``0.0-D`` for grounding (IoU = segment length / D, so
  12/48 = 25 % on average for segments of 8..16 of 48 frames); the other tasks exactly as
  ``random`` (same draws).
``chance``: the definition that reproduces the paper's Random Guess row: a uniform guess where
  the answer space has an analytic chance value (counting 1/9 and 1/16 per shape, jigsaw 1/n!)
  and the whole-video interval for grounding (expected IoU E[length] / 48 = 25 %; the paper
  prints 25.2-25.9, a uniform random interval gives about 20 %). Its guesses are
  ``whole-video``'s; :func:`analytic_chance` is its expected score per subset.

Each item's guess comes from a generator seeded by (seed, baseline family, item id), so a
baseline file is a pure function of the benchmark and the seed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from videossr import atomic
from videossr.names import unknown
from videossr.seeding import rng_for
from videossr.viubench.items import Item, load_bench
from videossr.viubench.subsets import BENCH_VERSION

Guess = Callable[[Item, np.random.Generator], str]


def count_range(item: Item) -> tuple[int, int]:
    """(lowest, highest) count one shape can have in this item's counting variant."""
    from videossr.tasks import get_task

    opts = get_task("counting").options(item.variant)
    return 1, opts.max_frames * opts.max_instances


def clip_count(item: Item) -> int:
    return len(item.clips)


def axis_tenths(item: Item) -> int:
    """The video's time axis length in tenths of a second (the answer's grid)."""
    return int(round(item.duration_s * 10))


def _random_counting(item: Item, rng: np.random.Generator) -> str:
    low, high = count_range(item)
    return ",".join(str(int(c)) for c in rng.integers(low, high + 1, size=3))


def _random_jigsaw(item: Item, rng: np.random.Generator) -> str:
    from videossr.tasks.jigsaw import format_order

    return format_order([int(k) + 1 for k in rng.permutation(clip_count(item))])


def _random_grounding(item: Item, rng: np.random.Generator) -> str:
    start, end = sorted(int(t) for t in rng.choice(axis_tenths(item) + 1, size=2, replace=False))
    return f"{start / 10:.1f}-{end / 10:.1f}"


def _whole_video(item: Item, rng: np.random.Generator) -> str:
    return f"0.0-{axis_tenths(item) / 10:.1f}"


_RANDOM: dict[str, Guess] = {"counting": _random_counting, "jigsaw": _random_jigsaw, "grounding": _random_grounding}
_CHANCE: dict[str, Guess] = {**_RANDOM, "grounding": _whole_video}
BASELINES: dict[str, dict[str, Guess]] = {"random": _RANDOM, "whole-video": _CHANCE, "chance": _CHANCE}
SEED_FAMILY = "viubench-random"  # every baseline draws from the same per-item streams


def analytic_chance() -> dict[str, float]:
    """{subset: expected score in [0, 1]} of the ``chance`` baseline, from the VIUBench recipe:
    counting 1 / (max_frames x max_instances) per shape (a uniform guess over 1..K hits any true
    count in 1..K with probability 1/K), jigsaw 1 / n!, grounding the whole-video interval's
    expected IoU, E[segment length] / kept frames (lengths uniform in min..max_length; up to the
    0.1 s answer grid)."""
    from videossr.recipe import load_recipe
    from videossr.tasks import get_task
    from videossr.viubench.subsets import RECIPE_NAME, subset_for

    recipe = load_recipe(RECIPE_NAME)
    values = {}
    for entry in recipe.entries:
        opts = get_task(entry.task).options(entry.variant, **entry.options)
        if entry.task == "counting":
            value = 1 / (opts.max_frames * opts.max_instances)
        elif entry.task == "jigsaw":
            value = 1 / math.factorial(opts.n)
        else:
            value = (opts.min_length + opts.max_length) / 2 / recipe.sampling.num_frames
        values[subset_for(entry.task, entry.variant).name] = value
    return values


def baseline_responses(name: str, items: list[Item], *, seed: int = 0) -> dict[str, str]:
    """{item id: response} of baseline ``name`` over ``items``."""
    if name not in BASELINES:
        raise unknown("baseline", name, BASELINES)
    guesses = BASELINES[name]
    return {item.id: guesses[item.task](item, rng_for(seed, SEED_FAMILY, item.id)) for item in items}


def write_baseline(name: str, bench_dir: str | os.PathLike, out: str | os.PathLike, *, seed: int = 0) -> Path:
    """Write baseline ``name``'s predictions for a VIUBench folder (JSONL, versioned, one line per item)."""
    meta, items = load_bench(bench_dir)
    responses = baseline_responses(name, items, seed=seed)
    lines = [{"id": item.id, "response": responses[item.id], "viubench_version": BENCH_VERSION, "bench": meta["fingerprint"],
              "baseline": name, "seed": seed} for item in items]
    return atomic.write_jsonl(out, lines)
