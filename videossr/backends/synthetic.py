"""A simulated model whose accuracy falls with the difficulty of the question (for tests and demos).

This is a stand-in for a real model, used by the diagnose and calibrate tests and the README
example: it answers questions of a ``videossr build`` dataset by looking the ground truth up in
that dataset (found from the request's frame paths: the nearest folder above them holding
``build.json``, whose ``train.parquet`` / ``val.parquet`` rows are matched by their frame
lists). It never looks at pixels.

Each question gets a difficulty ``d`` from its params (jigsaw: clips - 2; counting: mean count per
shape; grounding: 32 / segment length + 0 / 1 / 2 for an obvious / default / subtle
perturbation), and a fixed per-question offset ``e ~ N(0, spread)`` (some questions are easier
than others). An answer is exact with probability ``p = 1 / (1 + exp(-(skill - d + e)))``;
otherwise it is a near miss that gets worse as ``d`` grows (more clips out of place, counts off by
a larger fraction, boundaries shifted by more frames), so the smooth reward also falls with difficulty.
Every draw comes from a generator seeded by (seed, request, answer index): the same request,
seed and ``n`` give the same texts. ``temperature=0`` answers greedily (exact iff ``p >= 0.5``;
all n texts equal).

Requests from anything other than a build dataset get an item error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterator

import numpy as np

from videossr.backends.base import Backend, Generation, Request, SamplingSettings, number_option
from videossr.diagnose.ladders import OBVIOUS_POOL, SUBTLE_POOL
from videossr.errors import UserError
from videossr.seeding import rng_for

VERSION = 1


def difficulty(task: str, params: dict) -> float:
    """The simulated difficulty of one question (about 0-11 on the calibration ladders)."""
    if task == "jigsaw":
        return float(params["n"] - 2)
    if task == "counting":
        return sum(len(p["instances"]) for p in params["placements"]) / 3.0
    if task == "grounding":
        name = params["perturbation"]
        return 32.0 / params["length_frames"] + (0.0 if name in OBVIOUS_POOL else 2.0 if name in SUBTLE_POOL else 1.0)
    raise ValueError(f"the synthetic backend has no difficulty model for task {task!r}")


def _jigsaw_miss(answer: str, d: float, rng: np.random.Generator) -> str:
    order = [int(x) for x in (answer.split(",") if "," in answer else answer)]
    n = len(order)
    while True:
        if rng.random() < min(1.0, d / 8.0):
            guess = [order[i] for i in rng.permutation(n)]
        else:
            guess = list(order)
            i, j = rng.choice(n, size=2, replace=False)
            guess[i], guess[j] = guess[j], guess[i]
        if guess != order:
            return "".join(map(str, guess)) if n <= 9 else ",".join(map(str, guess))


def _counting_miss(answer: str, d: float, rng: np.random.Generator) -> str:
    counts = [int(x) for x in answer.split(",")]
    while True:  # each count off with probability 3/4, by a relative error that grows with d
        guess = [max(0, c + int(rng.choice((-1, 1))) * max(1, round(c * abs(rng.normal(0.0, 0.15 + d / 10.0))))) if rng.random() < 0.75 else c for c in counts]
        if guess != counts:
            return ",".join(map(str, guess))


def _grounding_miss(answer: str, d: float, fps: float, rng: np.random.Generator) -> str:
    start, end = (float(x) for x in answer.split("-"))
    while True:
        shift = np.round(rng.normal(0.0, 1.0 + d / 2.0, size=2)) / fps
        s, e = max(0.0, start + shift[0]), max(0.0, end + shift[1])
        s, e = min(s, e), max(s, e)
        text = f"{s:.1f}-{e:.1f}"
        if text != f"{start:.1f}-{end:.1f}":
            return text


def exact_probability(skill: float, d: float, offset: float = 0.0) -> float:
    """The chance that an answer is exact: ``1 / (1 + exp(-(skill - d + offset)))``."""
    return 1.0 / (1.0 + math.exp(-(skill - d + offset)))


def near_miss(task: str, answer: str, d: float, fps: float, rng: np.random.Generator) -> str:
    """A wrong answer to a question of difficulty ``d`` whose exact answer is ``answer`` (never equal to it)."""
    if task == "jigsaw":
        return _jigsaw_miss(answer, d, rng)
    if task == "counting":
        return _counting_miss(answer, d, rng)
    return _grounding_miss(answer, d, fps, rng)


class SyntheticBackend(Backend):
    """See the module docstring. ``skill`` shifts the difficulty the simulated model handles half the time."""

    name = "synthetic"

    def __init__(self, skill: float = 4.0, spread: float = 1.0, model: str | None = None):  # model: accepted, unused (a simulated model)
        self.skill, self.spread = number_option("skill", skill), number_option("spread", spread, minimum=0)
        self._datasets: dict[Path, dict] = {}

    def identity(self) -> dict:
        return {"backend": self.name, "version": VERSION, "skill": self.skill, "spread": self.spread}

    def _index(self, root: Path) -> dict:
        if root not in self._datasets:
            import pyarrow.parquet as pq

            index = {}
            for name in ("train.parquet", "val.parquet"):
                if (root / name).is_file():
                    for row in pq.read_table(root / name, columns=["videos", "reward_model", "extra_info"]).to_pylist():
                        key = tuple(tuple(v["video"]) for v in row["videos"])
                        extra = row["extra_info"]
                        index[key] = (extra["task"], row["reward_model"]["ground_truth"], json.loads(extra["params"]))
            self._datasets[root] = index
        return self._datasets[root]

    def _truth(self, request: Request) -> tuple[str, str, dict] | None:
        videos = request.videos
        if not videos:
            return None
        root = next((p for p in Path(videos[0].frames[0]).parents if (p / "build.json").is_file()), None)
        if root is None:
            return None
        return self._index(root).get(tuple(v.frames for v in videos))

    def generate_iter(self, requests: list[Request], settings: SamplingSettings) -> Iterator[tuple[int, Generation]]:
        for index, request in enumerate(requests):
            truth = self._truth(request)
            if truth is None:
                yield index, Generation(error="the synthetic backend answers only questions of a videossr build dataset (no build.json above the frames, or the sample is not in its parquet)")
                continue
            task, answer, params = truth
            key = request.key()
            d = difficulty(task, params)
            offset = float(rng_for("synthetic-question", key).normal(0.0, self.spread)) if self.spread else 0.0
            p = exact_probability(self.skill, d, offset)
            texts = []
            for i in range(settings.n):
                rng = rng_for("synthetic-answer", key, settings.seed, 0 if settings.greedy else i)
                exact = p >= 0.5 if settings.greedy else rng.random() < p
                texts.append(answer if exact else near_miss(task, answer, d, request.videos[0].sample_fps, rng))
            yield index, Generation(texts=tuple(texts))
