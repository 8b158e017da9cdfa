"""The live dataset: item i of a build's plan, generated on demand at the controller's current rung.

A live run starts from a ``videossr build`` folder: its frame store (the sampled videos), its recipe,
seed and plan (``build.json``). Item ``i`` is the i-th sample of the build's train plan (entries in
recipe order, indices ascending; the recipe weights decide which task each item is), on video
``i mod V`` of the build's train videos, at the rung that ``rung_of(task)`` returns when the item is
asked for. The row has exactly the shape a static build writes (``videossr.build.sample_row``:
same prompt, answer, reward columns), with absolute frame paths, plus ``extra_info["live"]`` =
``{"item", "rung", "seed"}`` so a reward report can name the rung the sample was made at.

* At a task's default rung the item is the recipe entry itself, seeded like the static build:
  the row equals the build's row with the same sample id (a static build is the special case of a
  controller that never moves).
* At another rung the task's difficulty knobs (``KNOBS``) come from the ladder's rung and the seed
  is ``stable_seed(run seed, "live", rung)``; a grounding entry keeps its own perturbation and takes
  the rung's segment lengths (only a ``mixed`` entry takes the rung's perturbation pool).

New (perturbed) frames are written under ``frames_dir`` (one folder per item and rung, written
atomically; a repeat is a no-op) or, with ``inline=True``, returned as ``data:image/jpeg;base64``
URIs (clusters without shared storage). Source videos and the build folder are only read.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from videossr import atomic
from videossr.build import BUILD_FILE, STORE, clip_frame_paths, sample_row
from videossr.diagnose.ladders import get_ladder
from videossr.errors import UserError
from videossr.export import TRAIN_FILE
from videossr.framestore import FrameStore
from videossr.plan import Assignment, assignments, max_rounds
from videossr.recipe import RecipeEntry, parse_recipe
from videossr.seeding import stable_seed
from videossr.tasks import SampleContext, SkipSample, get_task, make_sample

# the options each task's ladder moves; everything else in a recipe entry is kept at every rung
KNOBS = {"jigsaw": ("n",), "counting": ("max_frames", "max_instances"), "grounding": ("min_length", "max_length", "perturbations")}


def rung_entry(entry: RecipeEntry, rung: int) -> tuple[str, dict]:
    """(variant, options) of ``entry`` at ladder rung ``rung`` of its task (the entry itself at the default rung)."""
    ladder = get_ladder(entry.task)
    if not 0 <= rung < len(ladder):
        raise ValueError(f"{entry.task}: rung {rung} outside 0..{len(ladder) - 1}")
    if rung == ladder.default:
        return entry.variant, dict(entry.options)
    step = ladder.rungs[rung]
    kept = {k: v for k, v in entry.options.items() if k not in KNOBS[entry.task]}
    if entry.task == "grounding" and entry.variant != "mixed":
        knobs = {k: v for k, v in step.options.items() if k != "perturbations"}
        knobs.setdefault("min_length", 8)
        knobs.setdefault("max_length", 16)
        return entry.variant, {**kept, **knobs}
    return step.variant, {**kept, **{k: list(v) if isinstance(v, tuple) else v for k, v in step.options.items()}}


def check_live_recipe(recipe) -> None:
    """Refuse a recipe whose entries of one task are not all at the task's default rung (one rung per task
    cannot move entries that start at different difficulties, e.g. jigsaw easy and hard together)."""
    for entry in recipe.entries:
        ladder = get_ladder(entry.task)
        task = get_task(entry.task)
        own, default = task.options(entry.variant, **entry.options), task.options(ladder.rungs[ladder.default].variant, **ladder.rungs[ladder.default].options)
        knobs = [k for k in KNOBS[entry.task] if not (entry.task == "grounding" and k == "perturbations" and entry.variant != "mixed")]
        differ = [f"{k} {getattr(own, k)!r} (default {getattr(default, k)!r})" for k in knobs if getattr(own, k) != getattr(default, k)]
        if differ:
            raise UserError(f"live difficulty starts every task at its ladder's default rung; recipe entry {entry.key} is elsewhere: "
                            + ", ".join(differ) + " (use entries at the default setting, e.g. the videossr30k recipe)")


@dataclass
class GenerationStats:
    """Items made so far and the seconds they took (generation + frame writes)."""

    items: int = 0
    seconds: float = 0.0

    @property
    def ms_per_item(self) -> float:
        return 1000.0 * self.seconds / self.items if self.items else 0.0


class LiveDataset:
    """A map-style dataset of ``len(plan)`` items; see the module docstring.

    ``rung_of(task) -> int`` is asked once per item (an in-process controller's ``rung``, or a call
    to a Ray actor); ``None`` holds every task at its ladder's default rung.
    """

    def __init__(self, build_dir: str | Path, frames_dir: str | Path | None = None, *, rung_of: Callable[[str], int] | None = None,
                 inline: bool = False, length: int | None = None):
        self.build_dir = Path(build_dir).resolve()
        record_path = self.build_dir / BUILD_FILE
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{build_dir} is not a finished videossr build ({record_path.name}: {exc})") from None
        if not record.get("complete") or "plan" not in record:
            raise UserError(f"{build_dir} is not a finished videossr build (run videossr build to the end first)")
        settings = record["settings"]
        self.recipe = parse_recipe({**record["recipe"], "seed": settings["seed"]})
        check_live_recipe(self.recipe)
        self.videos = list(record["plan"]["train_videos"])
        if not self.videos:
            raise UserError(f"{build_dir} has no training videos")
        made = self._made_ids()  # the static build could make these (a sample no video yields is left out)
        self.plan: list[Assignment] = [a for a in assignments(self.recipe, len(self.videos), settings.get("size"), "train") if a.sample_id in made]
        if not self.plan:
            raise UserError(f"{build_dir} has no training samples")
        self.length = int(length or len(self.plan))
        if not inline and frames_dir is None:
            raise UserError("a live dataset needs a frames folder (or inline=True)")
        self.frames_dir = Path(frames_dir).resolve() if frames_dir is not None else None
        self.inline, self.rung_of = inline, rung_of
        self.stats = GenerationStats()
        self._store = FrameStore(self.build_dir / STORE)

    def _made_ids(self) -> set[str]:
        import pyarrow.parquet as pq

        table = pq.read_table(self.build_dir / TRAIN_FILE, columns=["extra_info"])
        return {e["sample_id"] for e in table.column("extra_info").to_pylist()}

    def __len__(self) -> int:
        return self.length

    def default_rung(self, task: str) -> int:
        return get_ladder(task).default

    def task_of(self, i: int) -> str:
        return self.plan[i % len(self.plan)].entry.task

    @functools.lru_cache(maxsize=8)
    def _frames(self, video_id: str) -> np.ndarray:
        return self._store.read_frames(video_id)

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.length:
            raise IndexError(i)
        began = time.perf_counter()
        a = self.plan[i % len(self.plan)]
        rung = int(self.rung_of(a.entry.task)) if self.rung_of else self.default_rung(a.entry.task)
        row = self._make(a, i, rung)
        self.stats.items += 1
        self.stats.seconds += time.perf_counter() - began
        return row

    def _make(self, a: Assignment, i: int, rung: int) -> dict:
        variant, options = rung_entry(a.entry, rung)
        default = rung == self.default_rung(a.entry.task)
        seed = self.recipe.seed if default else stable_seed(self.recipe.seed, "live", rung)
        reasons = []
        for round_ in range(max_rounds(len(self.videos)) + 1):
            video_id = self.videos[(a.position + round_) % len(self.videos)]
            donors = tuple(v for v in self.videos if v != video_id) if a.entry.needs_donor else ()
            ctx = SampleContext(video_id, self._frames(video_id), self._store.meta(video_id)["sample_fps"], donor_ids=donors, load_frames=self._frames)
            try:
                sample = make_sample(ctx, a.entry.task, variant, a.index, seed=seed, overrides=options)
            except SkipSample as exc:
                reasons.append(f"{video_id}: {exc.reason}")
                continue
            sample_id = a.sample_id if default else f"{a.sample_id}-r{rung}"
            row = sample_row(sample, sample_id, self._clip_paths(sample, video_id, sample_id), self.recipe)
            row["extra_info"] = {**row["extra_info"], "index": i, "split": "train", "live": {"item": i, "rung": rung, "seed": int(seed)}}
            return row
        raise RuntimeError(f"live item {i} ({a.sample_id} at rung {rung}) could not be made on any video tried: " + "; ".join(reasons[:3]))

    def _clip_paths(self, sample, video_id: str, sample_id: str) -> list[list[str]]:
        kept_dir = f"{self.build_dir}/{STORE}/frames/{video_id}"  # as the static build's rows name them
        if self.inline:
            return clip_frame_paths(sample, kept_dir, lambda name, jpeg: "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"))
        folder, new = self.frames_dir / video_id / sample_id, {}

        def keep(name: str, jpeg: bytes) -> str:
            new[name] = jpeg
            return str(folder / name)

        paths = clip_frame_paths(sample, kept_dir, keep)
        if new and not folder.is_dir():
            staging = atomic.make_staging_dir(folder)
            for name, data in new.items():
                (staging / name).write_bytes(data)
            try:
                os.replace(staging, folder)
            except OSError:  # another worker made the same item first: same seed, same frames
                shutil.rmtree(staging, ignore_errors=True)
                if not folder.is_dir():
                    raise
        return paths
