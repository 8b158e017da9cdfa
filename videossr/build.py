"""``videossr build``: sample every video once, then generate every recipe task from the frame store.

Layout under the output root ``OUT``::

    OUT/.videossr.json                          marks the folder as a videossr build
    OUT/build.json                              what this folder is: recipe (+ hash), seed, size, val split, plan
    OUT/store/...                               the frame store (see videossr.framestore)
    OUT/samples/<video_id>/<job>/<sample_id>/   new (perturbed) frames only, JPEG
    OUT/rows/<video_id>/<job>.jsonl             one job's finished rows (frame paths relative to OUT), then a
                                                {"done": ...} line: row count + digest, size + digest of each new frame
    OUT/train.parquet                           the recipe's mix, verl schema, shuffled by the seed
    OUT/val.parquet                             held-out rows from videos not in train (--val-videos)
    OUT/tasks/<task>-<variant>.parquet          one parquet per recipe entry (train split)
    OUT/skipped.jsonl                           skipped videos and samples that could not be made, with reasons
    OUT/summary.json                            counts per task/variant, skips, settings
    OUT/dataset.json                            recipe, seed, and the root the parquet paths point to

The folder is a pure function of (the input folder as it is now, recipe, seed, size, val split):
a rerun redoes what changed (a file added, removed or replaced, compared by content hash),
reuses every job whose inputs are unchanged and whose files are intact (every file a finished
job names is checked against the size and digest recorded when it was written), and deletes
whatever the current plan does not reference. A rerun with other settings is refused unless
``overwrite=True``. See videossr.plan for how samples are spread over videos.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from videossr import atomic
from videossr.discover import find_videos
from videossr.errors import UserError
from videossr.export import write_dataset
from videossr.framestore import FrameStore, encode_jpeg, finalize, frame_name, sync_store
from videossr.outputs import claim_output, lock_scope
from videossr.parallel import default_workers, peak_rss_mb, run_jobs
from videossr.plan import Assignment, Job, VideoRef, assignments, max_rounds, parse_val, round_jobs, split_videos
from videossr.recipe import Recipe
from videossr.rewards import data_source_for
from videossr.tasks import SampleContext, SkipSample, TaskSample, make_sample
from videossr.tasks.base import SYSTEM_PROMPT

STORE, SAMPLES, ROWS, BUILD_FILE = "store", "samples", "rows", "build.json"
BUILD_FORMAT = "videossr-build-2"


def sample_row(sample: TaskSample, sample_id: str, frame_paths: list[list[str]], recipe: Recipe) -> dict:
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
            "sample_id": sample_id, "task": sample.task, "variant": sample.variant, "video_id": sample.video_id,
            "sample_fps": sample.sample_fps, "entry_index": sample.index, "params": json.dumps(sample.params, sort_keys=True),
            "question": sample.question, "answer": sample.answer, "new_frames": sample.new_frame_count(),
        },
    }


def clip_frame_paths(sample: TaskSample, kept_dir: str, new_frame) -> list[list[str]]:
    """Each clip's frame paths: a kept frame is ``kept_dir/<frame name>`` (the frame store, never rewritten);
    a new (perturbed) frame is JPEG-encoded and named ``CC_SSS.jpg`` (clip, slot), and ``new_frame(name, jpeg)``
    stores it and returns its path."""
    out = []
    for c, clip in enumerate(sample.clips):
        out.append([f"{kept_dir}/{frame_name(int(ref))}" if isinstance(ref, (int, np.integer)) else new_frame(f"{c:02d}_{slot:03d}.jpg", encode_jpeg(ref))
                    for slot, ref in enumerate(clip)])
    return out


@dataclass(frozen=True)
class _GenJob:
    out: str
    job: Job
    recipe: Recipe


def _job_paths(out: Path, job: Job) -> tuple[Path, Path]:
    """(rows file, new-frames folder) of one job."""
    return out / ROWS / job.video.video_id / f"{job.key}.jsonl", out / SAMPLES / job.video.video_id / job.key


def _rows_digest(results: list[dict]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for item in results:
        digest.update(json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _run_gen_job(gen: _GenJob) -> dict:
    """Generate one job's samples from the frame store; write new frames, then the rows file (last)."""
    out, job = Path(gen.out), gen.job
    store = FrameStore(out / STORE)
    vid = job.video.video_id
    frames, meta = store.read_frames(vid), store.meta(vid)
    load_donor = functools.lru_cache(maxsize=4)(store.read_frames)  # a donor picked twice is read once
    ctx = SampleContext(vid, frames, meta["sample_fps"], donor_ids=tuple(d.video_id for d in job.donors), load_frames=load_donor)
    rows_path, folder = _job_paths(out, job)
    staging = atomic.make_staging_dir(folder)
    try:
        results, files = _generate(gen, ctx, staging)
        atomic.commit_dir(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    atomic.write_jsonl(rows_path, [*results, {"done": {"results": len(results), "digest": _rows_digest(results), "files": files}}])
    return {"key": job.key, "peak_rss_mb": peak_rss_mb()}


def _generate(gen: _GenJob, ctx: SampleContext, staging: Path) -> tuple[list[dict], dict[str, list]]:
    """The job's rows and skips, and {path relative to OUT: file check} of the new frames written to ``staging``."""
    job, vid = gen.job, gen.job.video.video_id
    results, files = [], {}
    for a in job.work:
        try:
            sample = make_sample(ctx, a.entry.task, a.entry.variant, a.index, seed=gen.recipe.seed, overrides=a.entry.options)
        except SkipSample as exc:
            results.append({"skip": {"sample_id": a.sample_id, "video_id": vid, "reason": exc.reason}})
            continue

        def new_frame(name: str, data: bytes) -> str:  # called at once, within this sample's iteration
            rel = f"{a.sample_id}/{name}"
            (staging / rel).parent.mkdir(exist_ok=True)
            (staging / rel).write_bytes(data)
            path = f"{SAMPLES}/{vid}/{job.key}/{rel}"
            files[path] = atomic.bytes_check(data)
            return path

        results.append({"row": sample_row(sample, a.sample_id, clip_frame_paths(sample, f"{STORE}/frames/{vid}", new_frame), gen.recipe)})
    return results, files


def _finished(out: Path, job: Job) -> tuple[list[dict] | None, str | None]:
    """(rows and skips of a finished job, None) when its rows file and every new frame it names
    are intact; (None, why not) otherwise (None, None: never run)."""
    rows_path, _ = _job_paths(out, job)
    if not rows_path.is_file():
        return None, None
    try:
        items = atomic.read_jsonl(rows_path)
    except (OSError, ValueError):
        return None, f"{rows_path} is unreadable"
    done = items[-1].get("done") if items and isinstance(items[-1], dict) else None
    body = items[:-1]
    if not isinstance(done, dict) or done.get("results") != len(body) or done.get("digest") != _rows_digest(body):
        return None, f"{rows_path} is incomplete or was changed"
    prefix = f"{SAMPLES}/{job.video.video_id}/{job.key}/"
    for rel, check in (done.get("files") or {}).items():
        if not rel.startswith(prefix) or ".." in rel.split("/") or not atomic.matches(out / rel, check):
            return None, f"{out / rel} is missing or damaged"
    return body, None


@dataclass
class BuildReport:
    out: Path
    rows: int
    per_entry: dict[str, int]
    video_skips: list[dict]
    sample_skips: list[dict]  # samples no video could yield (after fallback rounds)
    requested: dict[str, int]
    videos_used: int = 0
    val_rows: int = 0
    val_videos: list[str] = field(default_factory=list)
    moved: int = 0  # samples made on another video than their first one
    not_opened: int = 0  # files never opened: enough usable videos came before them
    worker_peak_rss_mb: float = 0.0  # max over the jobs of this run

    def summary_text(self) -> str:
        lines = [f"wrote {self.rows} samples from {self.videos_used} video(s) to {self.out / 'train.parquet'}"]
        for key, wanted in self.requested.items():
            got = self.per_entry.get(key, 0)
            lines.append(f"  {key:<28} {got:>6} / {wanted}" + ("" if got == wanted else "   (short: see below)"))
        if self.val_videos:
            lines.append(f"held out {self.val_rows} samples from {len(self.val_videos)} other video(s) in {self.out / 'val.parquet'}")
        if self.moved:
            lines.append(f"{self.moved} sample(s) were made on another video because their first video could not yield them")
        if self.sample_skips:
            reasons = Counter(s["reason"] for s in self.sample_skips)
            lines.append(f"{len(self.sample_skips)} sample(s) could not be made on any video tried: " + "; ".join(f"{n} x {r}" for r, n in reasons.most_common(5)))
        if self.video_skips:
            lines.append(f"skipped {len(self.video_skips)} file(s) (they get no share of the samples): " + ", ".join(f"{n} x {r}" for r, n in Counter(s["reason"].split(":")[0] for s in self.video_skips).most_common()))
        if self.not_opened:
            lines.append(f"{self.not_opened} file(s) not opened: --size needs only the first usable videos")
        return "\n".join(lines)


def build_settings(recipe: Recipe, size: int | None, val_videos, val_size: int | None) -> dict:
    """What a build folder is a function of, besides the input folder; a rerun must match it."""
    return {"recipe": recipe.name, "recipe_hash": recipe.content_hash(), "seed": recipe.seed, "size": size, "val_videos": val_videos, "val_size": val_size}


def _check_settings(out: Path, settings: dict, overwrite: bool) -> None:
    path = out / BUILD_FILE
    if not path.is_file() or overwrite:
        return
    state = atomic.read_state(path, redo="building with the settings given (jobs of other settings are not reused)")
    if not isinstance(state, dict):
        return
    previous = state.get("settings", {})
    changed = [f"{k} {previous.get(k)!r} -> {settings[k]!r}" for k in settings if previous.get(k) != settings[k]]
    if changed:
        raise UserError(f"{out} was built with other settings ({'; '.join(changed)}); pass --overwrite to replace it, or choose another --out")


@lock_scope()
def build(video_dir: str | os.PathLike, out: str | os.PathLike, recipe: Recipe, *, size: int | None = None, workers: int | None = None,
          progress: bool = True, engine: str = "local", overwrite: bool = False, val_videos=None, val_size: int | None = None) -> BuildReport:
    """Run the whole recipe over every usable video under ``video_dir`` into ``out`` (resumable).

    ``val_videos`` (a count, or a fraction below 1) holds that many videos out of the training
    mix and builds ``val.parquet`` from them (``val_size`` samples, default the recipe's
    per-video share).
    """
    video_dir, out = Path(video_dir), Path(out)
    if size is not None and size < 1:
        raise UserError(f"--size must be >= 1, got {size}")
    val = parse_val(val_videos)
    settings = build_settings(recipe, size, val, val_size)
    claim_output(video_dir, out, kind="build", overwrite=overwrite)
    _check_settings(out, settings, overwrite)
    for folder in (out, out / "tasks", out / STORE):
        atomic.remove_stale_tmp(folder)  # leftovers of a killed run
    atomic.write_json(out / BUILD_FILE, {"format": BUILD_FORMAT, "settings": settings, "recipe": recipe.canonical(), "complete": False})
    workers = workers or default_workers()
    store = FrameStore(out / STORE)
    videos = find_videos(video_dir, exclude=[out])
    if size is None:
        recipe.default_size(len(videos))  # refuse a recipe asking for too many samples before decoding
    lazy = size is not None and not val and size < len(videos)
    needed = max(size, 2 if any(e.needs_donor for e in recipe.entries) else 1) if lazy else None
    synced = sync_store(store, videos, recipe.sampling, workers=workers, progress=progress, engine=engine, usable_needed=needed)
    sampling = finalize(store, synced, asdict(recipe.sampling))
    usable = sorted((VideoRef(m["video_id"], m["fingerprint"]["blake2b"]) for m in synced.sampled), key=lambda v: v.video_id)
    train_videos, held_videos = split_videos(usable, val, recipe.seed)
    job_settings = {"sampling": asdict(recipe.sampling), "seed": recipe.seed,
                    "training_pixels": [recipe.train_max_pixels, recipe.train_min_pixels]}
    results, used_keys, rss = {}, set(), synced.worker_peak_rss_mb
    for split, split_videos_, split_size in (("train", train_videos, size), ("val", held_videos, val_size)):
        if split_videos_:
            r, keys, job_rss = _run_split(out, recipe, split, split_videos_, split_size, job_settings, workers, progress, engine)
            results[split] = r
            used_keys |= keys
            rss = max(rss, job_rss)
    _collect_garbage(out, used_keys)
    report = _compile(out, recipe, results, sampling.skipped, train_videos, held_videos, size, val_size)
    report.not_opened, report.worker_peak_rss_mb = synced.not_needed, rss
    atomic.write_json(out / BUILD_FILE, {"format": BUILD_FORMAT, "settings": settings, "recipe": recipe.canonical(), "complete": True,
                                         "plan": {"train_videos": [v.video_id for v in train_videos], "val_videos": [v.video_id for v in held_videos],
                                                  "jobs": sorted(used_keys)}})
    return report


@dataclass
class _SplitResult:
    requested: dict[str, int]
    rows: list[dict]
    failed: list[dict]
    moved: int


def _run_split(out: Path, recipe: Recipe, split: str, videos: list[VideoRef], size: int | None, settings: dict, workers: int,
               progress: bool, engine: str) -> tuple[_SplitResult, set[str], float]:
    """Generate one split: round 0 on each sample's own video, then fallback rounds for what failed."""
    pending: list[Assignment] = assignments(recipe, len(videos), size, split)
    requested = dict(Counter(a.entry.key for a in pending))
    rows, keys, rss, moved, last_skip = [], set(), 0.0, 0, {}
    for round_ in range(max_rounds(len(videos)) + 1):
        if not pending:
            break
        jobs = round_jobs(split, round_, pending, videos, settings)
        keys |= {j.key for j in jobs}
        finished = {j.key: _finished(out, j) for j in jobs}
        damaged = [why for _items, why in finished.values() if why]
        if damaged:
            atomic.warn(f"redoing {len(damaged)} finished job(s) whose files are missing, damaged or from an older videossr (first: {damaged[0]})")
        todo = [_GenJob(str(out.resolve()), j, recipe) for j in jobs if finished[j.key][0] is None]
        desc = f"generating {split}" + (f" (fallback round {round_})" if round_ else "")
        for result in run_jobs(_run_gen_job, todo, workers=workers, desc=desc, progress=progress and bool(todo), engine=engine):
            rss = max(rss, result["peak_rss_mb"])
        done = set()
        for job in jobs:
            items = finished[job.key][0]
            if items is None:
                items, why = _finished(out, job)
                if items is None:
                    raise RuntimeError(f"internal error: job {job.key} of {job.video.video_id} did not finish: {why}")
            for item in items:
                if "row" in item:
                    rows.append(item["row"])
                    done.add(item["row"]["extra_info"]["sample_id"])
                    moved += round_ > 0
                else:
                    last_skip[item["skip"]["sample_id"]] = item["skip"]
        pending = [a for a in pending if a.sample_id not in done]
    tried = max_rounds(len(videos)) + 1  # never more than the split's videos
    failed = [{**last_skip[a.sample_id], "task": a.entry.task, "variant": a.entry.variant, "split": split, "videos_tried": tried} for a in pending]
    return _SplitResult(requested, rows, failed, moved), keys, rss


def _collect_garbage(out: Path, used_keys: set[str]) -> None:
    """Delete job outputs the current plan does not reference (and leftovers of killed runs)."""
    for sub in (ROWS, SAMPLES):
        root = out / sub
        if not root.is_dir():
            continue
        atomic.remove_stale_tmp(root)
        for video_dir in list(root.iterdir()):
            if not video_dir.is_dir():
                video_dir.unlink()
                continue
            atomic.remove_stale_tmp(video_dir)
            for entry in list(video_dir.iterdir()):
                key = entry.name[: -len(".jsonl")] if entry.name.endswith(".jsonl") else entry.name
                if key not in used_keys:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            if not any(video_dir.iterdir()):
                video_dir.rmdir()


def _compile(out: Path, recipe: Recipe, results: dict[str, _SplitResult], video_skips: list[dict], train_videos: list[VideoRef],
             held_videos: list[VideoRef], size: int | None, val_size: int | None) -> BuildReport:
    train = results.get("train") or _SplitResult({e.key: 0 for e in recipe.entries}, [], [], 0)
    val = results.get("val")
    ids = [r["extra_info"]["sample_id"] for res in results.values() for r in res.rows]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"internal error: duplicate sample ids {sorted(k for k, n in Counter(ids).items() if n > 1)[:5]}")
    write_dataset(out, train.rows, recipe=recipe, root=out.resolve(), val_rows=val.rows if val else None)
    failed = train.failed + (val.failed if val else [])
    atomic.write_jsonl(out / "skipped.jsonl", [{"kind": "video", **s} for s in video_skips]
                       + [{"kind": "sample", **s} for s in sorted(failed, key=lambda s: s["sample_id"])])
    per_entry = dict(Counter(f"{r['extra_info']['task']}-{r['extra_info']['variant']}" for r in train.rows))
    requested = {e.key: train.requested.get(e.key, 0) for e in recipe.entries}
    report = BuildReport(out=out, rows=len(train.rows), per_entry=per_entry, video_skips=video_skips, sample_skips=failed, requested=requested,
                         videos_used=len({r["extra_info"]["video_id"] for r in train.rows}), val_rows=len(val.rows) if val else 0,
                         val_videos=[v.video_id for v in held_videos], moved=train.moved + (val.moved if val else 0))
    atomic.write_json(out / "summary.json", {
        "recipe": recipe.name, "seed": recipe.seed, "size": size, "samples": len(train.rows), "requested": requested, "per_entry": per_entry,
        "videos_usable": len(train_videos) + len(held_videos), "videos_used": report.videos_used, "video_skips": len(video_skips),
        "val_videos": report.val_videos, "val_samples": report.val_rows, "val_size": val_size, "moved_samples": report.moved,
        "sample_shortfall": len(failed), "shortfall_reasons": dict(Counter(s["reason"] for s in failed)),
    })
    return report
