"""``videossr build``: sample every video and generate every recipe task from it in one pass.

Layout under the output root ``OUT``::

    OUT/store/...                       the frame store (see videossr.framestore)
    OUT/samples/<video_id>/<sample_id>/ new (perturbed) frames only, JPEG
    OUT/rows/<video_id>.jsonl           the video's finished rows (frame paths relative to OUT)
    OUT/train.parquet                   the recipe's mix, verl schema, shuffled by the seed
    OUT/tasks/<task>-<variant>.parquet  one parquet per recipe entry
    OUT/skipped.jsonl                   skipped videos and skipped samples, with reasons
    OUT/summary.json                    counts per task/variant, skips, settings
    OUT/dataset.json                    recipe, seed, and the root the parquet paths point to

A video is decoded once: its kept frames stay in memory while every recipe entry assigned to it
is generated. Entries that borrow frames from another video (Swap) run in a second pass that
reads the frame store, after every video has been sampled. Each video's rows file is written
last and atomically, so a rerun skips finished videos and redoes only those in flight.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from videossr import atomic
from videossr.discover import VideoFile, find_videos
from videossr.export import write_dataset
from videossr.framestore import FrameStore, check_settings, encode_jpeg, finalize, frame_name, sample_to_store
from videossr.parallel import decoder_threads, default_workers, peak_rss_mb, run_jobs
from videossr.recipe import Recipe, RecipeEntry
from videossr.rewards import data_source_for
from videossr.tasks import SampleContext, SkipSample, TaskSample, make_sample
from videossr.tasks.base import SYSTEM_PROMPT

STORE, SAMPLES, ROWS = "store", "samples", "rows"


@dataclass(frozen=True)
class Assignment:
    """Sample ``index`` of one recipe entry."""

    entry: RecipeEntry
    index: int


def assign(recipe: Recipe, video_ids: list[str], size: int | None) -> dict[str, list[Assignment]]:
    """Spread each entry's samples round-robin over the (sorted) videos: sample i -> video i mod V."""
    per_video: dict[str, list[Assignment]] = defaultdict(list)
    if not video_ids:
        return per_video
    counts = recipe.allocate(len(video_ids), size)
    for entry in recipe.entries:
        for i in range(counts[entry.key]):
            per_video[video_ids[i % len(video_ids)]].append(Assignment(entry, i))
    return per_video


def sample_row(sample: TaskSample, frame_paths: list[list[str]], recipe: Recipe) -> dict:
    """One dataset row (verl schema) with frame paths relative to OUT; see ``videossr.export``."""
    if len(frame_paths) == 1:
        user = f"<video>\n{sample.question}"
    else:
        user = "".join(f"Clip {k + 1}: <video>\n" for k in range(len(frame_paths))) + sample.question
    videos = [{"video": paths, "sample_fps": sample.sample_fps, "max_pixels": recipe.train_max_pixels, "min_pixels": recipe.train_min_pixels} for paths in frame_paths]
    return {
        "data_source": data_source_for(sample.task),
        "prompt": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}],
        "videos": videos,
        "ability": sample.ability,
        "reward_model": {"style": "rule", "ground_truth": sample.answer},
        "extra_info": {
            "sample_id": sample.sample_id, "task": sample.task, "variant": sample.variant, "video_id": sample.video_id,
            "sample_fps": sample.sample_fps, "entry_index": sample.index, "params": json.dumps(sample.params, sort_keys=True),
            "question": sample.question, "answer": sample.answer, "new_frames": sample.new_frame_count(),
        },
    }


def _write_samples(out: Path, video_id: str, samples: list[TaskSample], recipe: Recipe, suffix: str) -> list[dict]:
    """Write only new frames (into one staged folder per video and pass) and return the rows."""
    folder_name = video_id + suffix
    final = out / SAMPLES / folder_name
    staging = atomic.make_staging_dir(final)
    store_prefix = f"{STORE}/frames/{video_id}"
    rows = []
    for sample in samples:
        clip_paths = []
        for c, clip in enumerate(sample.clips):
            paths = []
            for slot, ref in enumerate(clip):
                if isinstance(ref, (int, np.integer)):
                    paths.append(f"{store_prefix}/{frame_name(int(ref))}")
                else:
                    rel = f"{sample.sample_id}/{c:02d}_{slot:03d}.jpg"
                    (staging / rel).parent.mkdir(exist_ok=True)
                    (staging / rel).write_bytes(encode_jpeg(ref))
                    paths.append(f"{SAMPLES}/{folder_name}/{rel}")
            clip_paths.append(paths)
        rows.append(sample_row(sample, clip_paths, recipe))
    atomic.commit_dir(staging, final)
    return rows


def _generate(ctx: SampleContext, work: list[Assignment], seed: int) -> tuple[list[TaskSample], list[dict]]:
    samples, skips = [], []
    for a in work:
        e = a.entry
        try:
            samples.append(make_sample(ctx, e.task, e.variant, a.index, seed=seed, overrides=e.options))
        except SkipSample as exc:
            skips.append({"video_id": ctx.video_id, "task": e.task, "variant": e.variant, "index": a.index, "reason": exc.reason})
    return samples, skips


@dataclass(frozen=True)
class _VideoJob:
    out: str
    video: VideoFile
    recipe: Recipe
    work: tuple[Assignment, ...]
    donor_ids: tuple[str, ...]
    second_pass: bool
    threads: int


def _rows_path(out: Path, video_id: str, second_pass: bool) -> Path:
    return out / ROWS / (video_id + (".donor" if second_pass else "") + ".jsonl")


def _run_video_job(job: _VideoJob) -> dict:
    out = Path(job.out)
    store = FrameStore(out / STORE)
    if job.second_pass:
        frames, meta = store.read_frames(job.video.video_id), store.meta(job.video.video_id)
    else:
        sampled, meta = sample_to_store(store, job.video, job.recipe.sampling, job.threads)
        if sampled is None:
            return {"video_id": job.video.video_id, "skipped": meta["reason"], "peak_rss_mb": peak_rss_mb()}
        frames = sampled.frames
    load_donor = functools.lru_cache(maxsize=4)(store.read_frames)  # a donor picked twice is read once
    ctx = SampleContext(job.video.video_id, frames, meta["sample_fps"], donor_ids=job.donor_ids, load_frames=load_donor)
    samples, skips = _generate(ctx, list(job.work), job.recipe.seed)
    rows = _write_samples(out, job.video.video_id, samples, job.recipe, ".donor" if job.second_pass else "")
    atomic.write_jsonl(_rows_path(out, job.video.video_id, job.second_pass), [{"row": r} for r in rows] + [{"skip": s} for s in skips])
    return {"video_id": job.video.video_id, "rows": len(rows), "skips": len(skips), "peak_rss_mb": peak_rss_mb()}


@dataclass
class BuildReport:
    out: Path
    rows: int
    per_entry: dict[str, int]
    video_skips: list[dict]
    sample_skips: list[dict]
    requested: dict[str, int]
    videos_used: int = 0
    worker_peak_rss_mb: float = 0.0  # max over the per-video jobs of this run

    def summary_text(self) -> str:
        lines = [f"wrote {self.rows} samples from {self.videos_used} video(s) to {self.out / 'train.parquet'}"]
        for key, wanted in self.requested.items():
            lines.append(f"  {key:<28} {self.per_entry.get(key, 0):>6} / {wanted}")
        if self.video_skips:
            lines.append(f"skipped {len(self.video_skips)} file(s): " + ", ".join(f"{n} x {r}" for r, n in Counter(s["reason"].split(":")[0] for s in self.video_skips).most_common()))
        if self.sample_skips:
            lines.append(f"skipped {len(self.sample_skips)} sample(s): " + ", ".join(f"{n} x {r}" for r, n in Counter(s["reason"] for s in self.sample_skips).most_common(5)))
        return "\n".join(lines)


def build(video_dir: str | os.PathLike, out: str | os.PathLike, recipe: Recipe, *, size: int | None = None, workers: int | None = None, progress: bool = True, engine: str = "local") -> BuildReport:
    """Run the whole recipe over every video under ``video_dir`` into ``out`` (resumable)."""
    video_dir, out = Path(video_dir), Path(out)
    if not video_dir.is_dir():
        raise FileNotFoundError(f"video folder not found: {video_dir}")
    if size is not None and size < 1:
        raise ValueError(f"--size must be >= 1, got {size}")
    check_settings(out / STORE, asdict(recipe.sampling))
    for sub in (STORE + "/frames", STORE + "/skips", SAMPLES, ROWS):
        atomic.remove_stale_tmp(out / sub)
    videos = find_videos(video_dir, exclude=[out])
    plan = assign(recipe, [v.video_id for v in videos], size)
    workers = workers or default_workers()
    donor_keys = {e.key for e in recipe.entries if e.needs_donor}
    threads = 1 if engine == "ray" else decoder_threads(workers)
    first = [
        _VideoJob(str(out.resolve()), v, recipe, tuple(a for a in plan.get(v.video_id, []) if a.entry.key not in donor_keys), (), False, threads)
        for v in videos if not _rows_path(out, v.video_id, False).is_file()
    ]
    rss = max((r["peak_rss_mb"] for r in run_jobs(_run_video_job, first, workers=workers, desc="building", progress=progress, engine=engine)), default=0.0)
    store = FrameStore(out / STORE)
    sampled_ids = sorted(v.video_id for v in videos if store.meta(v.video_id) is not None)
    if donor_keys:
        second = []
        for v in videos:
            work = tuple(a for a in plan.get(v.video_id, []) if a.entry.key in donor_keys)
            if v.video_id in sampled_ids and work and not _rows_path(out, v.video_id, True).is_file():
                second.append(_VideoJob(str(out.resolve()), v, recipe, work, tuple(i for i in sampled_ids if i != v.video_id), True, 1))
        for result in run_jobs(_run_video_job, second, workers=workers, desc="building (swap)", progress=progress, engine=engine):
            rss = max(rss, result["peak_rss_mb"])
    sampling = finalize(store, videos, asdict(recipe.sampling), resumed=0)
    requested = recipe.allocate(len(videos), size) if videos else {e.key: 0 for e in recipe.entries}
    report = _compile(out, recipe, videos, sampling.skipped, requested)
    report.worker_peak_rss_mb = rss
    return report


def _compile(out: Path, recipe: Recipe, videos: list[VideoFile], video_skips: list[dict], requested: dict[str, int]) -> BuildReport:
    rows, sample_skips = [], []
    for v in videos:
        for second in (False, True):
            path = _rows_path(out, v.video_id, second)
            if path.is_file():
                for item in atomic.read_jsonl(path):
                    (rows.append(item["row"]) if "row" in item else sample_skips.append(item["skip"]))
    per_entry = Counter(f"{r['extra_info']['task']}-{r['extra_info']['variant']}" for r in rows)
    write_dataset(out, rows, recipe=recipe, root=out.resolve())
    atomic.write_jsonl(out / "skipped.jsonl", [{"kind": "video", **s} for s in video_skips] + [{"kind": "sample", **s} for s in sample_skips])
    report = BuildReport(out=out, rows=len(rows), per_entry=dict(per_entry), video_skips=video_skips, sample_skips=sample_skips,
                         requested=requested, videos_used=len({r["extra_info"]["video_id"] for r in rows}))
    atomic.write_json(out / "summary.json", {
        "recipe": recipe.name, "seed": recipe.seed, "samples": len(rows), "requested": requested, "per_entry": dict(per_entry),
        "videos_found": len(videos), "videos_used": report.videos_used, "video_skips": len(video_skips), "sample_skips": len(sample_skips),
        "sample_skip_reasons": dict(Counter(s["reason"] for s in sample_skips)),
    })
    return report
