"""The build plan: which video makes which sample, as a pure function of the usable videos.

A split's samples (train, or the held-out val) are laid out entry by entry, index by index; the
k-th sample of that order goes to usable video ``k mod V``. So samples spread evenly over the
videos, and within one entry no video repeats while the entry has at most V samples. A sample a
video cannot yield (e.g. a perturbation that is invisible on it) moves on in fallback rounds:
round r tries video ``(k + r) mod V``.

Work is grouped into jobs (one split, round and video each). A job's key hashes everything its
output depends on (the video's content hash, sampling settings, seed, entries, indices, donor
videos), so a rerun reuses exactly the jobs whose inputs did not change.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

from videossr.errors import UserError
from videossr.recipe import Recipe, RecipeEntry
from videossr.seeding import stable_seed

PLAN_FORMAT = "videossr-plan-2"  # in every job key: bumped when the same inputs make other samples (2: paper counting placement, perturbation wording)
MAX_FALLBACK_ROUNDS = 8
SPLITS = ("train", "val")


@dataclass(frozen=True)
class Assignment:
    """Sample ``index`` of one recipe entry in one split; ``position`` places it in the split's order."""

    entry: RecipeEntry
    index: int
    position: int
    split: str = "train"

    @property
    def sample_id(self) -> str:
        prefix = "" if self.split == "train" else f"{self.split}-"
        return f"{prefix}{self.entry.key}-{self.index:06d}"


@dataclass(frozen=True)
class VideoRef:
    """A usable video as the plan sees it: id and content hash (from the frame store)."""

    video_id: str
    blake2b: str


@dataclass(frozen=True)
class Job:
    """Generate ``work`` from one video in one fallback round; ``key`` names its output files."""

    split: str
    round: int
    video: VideoRef
    work: tuple[Assignment, ...]
    donors: tuple[VideoRef, ...]
    key: str


def assignments(recipe: Recipe, num_videos: int, size: int | None, split: str = "train") -> list[Assignment]:
    """Every sample of a split in plan order (entries in recipe order, indices ascending)."""
    counts = recipe.allocate(num_videos, size) if num_videos else {e.key: 0 for e in recipe.entries}
    out, position = [], 0
    for entry in recipe.entries:
        for index in range(counts[entry.key]):
            out.append(Assignment(entry, index, position, split))
            position += 1
    return out


def parse_val(text: str | float | int | None) -> float | int | None:
    """``--val-videos``: a count (``4``) or a fraction of the usable videos (``0.1``)."""
    if text is None:
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UserError(f"--val-videos must be a count (e.g. 4) or a fraction below 1 (e.g. 0.1), got {text!r}") from None
    if value <= 0:
        raise UserError(f"--val-videos must be > 0, got {text}")
    if value < 1:
        return value
    if value != int(value):
        raise UserError(f"--val-videos must be a whole count or a fraction below 1, got {text}")
    return int(value)


def split_videos(videos: list[VideoRef], val: float | int | None, seed: int) -> tuple[list[VideoRef], list[VideoRef]]:
    """(train, val) videos. Val videos are those ranking lowest by a seeded hash of their id, so
    adding a video moves at most one video between the splits."""
    if not val:
        return videos, []
    count = val if isinstance(val, int) else max(1, round(val * len(videos)))
    if count >= len(videos):
        raise UserError(f"--val-videos {val} leaves no training video: only {len(videos)} usable video(s)")
    ranked = sorted(videos, key=lambda v: (stable_seed(seed, "val-split", v.video_id), v.video_id))
    held = {v.video_id for v in ranked[:count]}
    return [v for v in videos if v.video_id not in held], [v for v in videos if v.video_id in held]


def job_key(split: str, round_: int, video: VideoRef, work: tuple[Assignment, ...], donors: tuple[VideoRef, ...], settings: dict) -> str:
    payload = {
        "format": PLAN_FORMAT, "split": split, "round": round_, "video": [video.video_id, video.blake2b],
        "donors": [[d.video_id, d.blake2b] for d in donors], "settings": settings,
        "work": [[a.entry.task, a.entry.variant, a.entry.options, a.index] for a in work],
    }
    return hashlib.blake2b(json.dumps(payload, sort_keys=True).encode(), digest_size=8).hexdigest()


def round_jobs(split: str, round_: int, pending: list[Assignment], videos: list[VideoRef], settings: dict) -> list[Job]:
    """The jobs of one round: each pending sample on video ``(position + round) mod V``, grouped per video."""
    by_video: dict[int, list[Assignment]] = defaultdict(list)
    for a in pending:
        by_video[(a.position + round_) % len(videos)].append(a)
    jobs = []
    for slot in sorted(by_video):
        video, work = videos[slot], tuple(by_video[slot])
        donors = tuple(v for v in videos if v.video_id != video.video_id) if any(a.entry.needs_donor for a in work) else ()
        jobs.append(Job(split, round_, video, work, donors, job_key(split, round_, video, work, donors, settings)))
    return jobs


def max_rounds(num_videos: int) -> int:
    """Fallback rounds after the first: every other video, at most :data:`MAX_FALLBACK_ROUNDS`."""
    return min(max(0, num_videos - 1), MAX_FALLBACK_ROUNDS)
