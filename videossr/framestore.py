"""The frame store: sampled frames on disk, one folder of JPEGs per video, plus a manifest.

Layout under the output root ``OUT``::

    OUT/frames/<video_id>/000000.jpg ... 000047.jpg   kept frames, in time order
    OUT/frames/<video_id>/meta.json                   the manifest row of this video (+ size and digest per frame)
    OUT/skips/<video_id>.json                         why a file was skipped (kept for resume)
    OUT/fingerprints.json                             stat + content hash per input file (a cache)
    OUT/manifest.jsonl                                all sampled videos, sorted by id
    OUT/skipped.jsonl                                 all skipped files with reasons
    OUT/sampling.json                                 settings and counts

A video's folder is written under a temporary name and renamed into place when complete, so
an interrupted run leaves either a whole entry or none. An entry is valid only for the file
content (blake2b) and sampling settings it records: a rerun re-hashes files whose size, times
or inode changed, resamples those whose content changed, and drops entries of files that are
gone, so the store always equals a fresh sampling of the folder as it is now. An entry whose frame
files no longer match the sizes and digests recorded at write time (truncated, replaced,
deleted), or whose meta.json cannot be read, is sampled again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from videossr import atomic
from videossr.discover import VideoFile, find_videos
from videossr.errors import UserError
from videossr.outputs import claim_output, lock_scope
from videossr.parallel import decoder_threads, default_workers, peak_rss_mb, run_jobs
from videossr.sampling import SampledVideo, SamplingConfig, SkipVideo, sample_video

JPEG_QUALITY = 85  # frames are stored at the training size; the model processor resizes them again
FRAMES_DIR, SKIPS_DIR = "frames", "skips"
MANIFEST, SKIPPED, SUMMARY, FINGERPRINTS = "manifest.jsonl", "skipped.jsonl", "sampling.json", "fingerprints.json"
FRAME_CHECKS = "frame_checks"  # meta.json only: [size, digest] per frame file (see atomic.file_check)


def frame_name(index: int) -> str:
    return f"{index:06d}.jpg"


def encode_jpeg(frame: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def content_hash(path: Path) -> str:
    """blake2b (128 bit) of the file's bytes: what identifies an input, whatever its name."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def stat_key(path: Path) -> dict:
    """Size, times and inode: unchanged stat means unchanged content (ctime cannot be set back)."""
    st = path.stat()
    return {"size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "inode": st.st_ino}


class FrameStore:
    """Read and write sampled videos under ``root`` (see the module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def video_dir(self, video_id: str) -> Path:
        return self.root / FRAMES_DIR / video_id

    def skip_path(self, video_id: str) -> Path:
        return self.root / SKIPS_DIR / f"{video_id}.json"

    def meta(self, video_id: str) -> dict | None:
        meta = atomic.read_state(self.video_dir(video_id) / "meta.json", redo="sampling that video again")
        return meta if isinstance(meta, dict) else None

    def write(self, video: SampledVideo, record: dict) -> dict:
        """Write frames + meta.json atomically as one folder; returns the manifest row."""
        final = self.video_dir(video.video_id)
        staging = atomic.make_staging_dir(final)
        names = [frame_name(i) for i in range(len(video.frames))]
        checks = []
        try:
            for name, frame in zip(names, video.frames):
                data = encode_jpeg(frame)
                (staging / name).write_bytes(data)
                checks.append(atomic.bytes_check(data))
            row = {**record, "frames_dir": f"{FRAMES_DIR}/{video.video_id}", "frame_files": names, FRAME_CHECKS: checks}
            (staging / "meta.json").write_text(json.dumps(row, indent=1, sort_keys=True), encoding="utf-8")
            atomic.commit_dir(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return row

    def read_frames(self, video_id: str) -> np.ndarray:
        """The stored frames of one video as a uint8 array (N, H, W, 3)."""
        meta = self.meta(video_id)
        if meta is None:
            raise KeyError(f"video {video_id!r} is not in the frame store at {self.root}")
        folder = self.video_dir(video_id)
        return np.stack([np.asarray(Image.open(folder / name).convert("RGB")) for name in meta["frame_files"]])

    def frame_paths(self, video_id: str) -> list[Path]:
        meta = self.meta(video_id)
        if meta is None:
            raise KeyError(f"video {video_id!r} is not in the frame store at {self.root}")
        return [self.video_dir(video_id) / name for name in meta["frame_files"]]

    def frames_intact(self, meta: dict) -> bool:
        """Whether every frame file of an entry still has the size and digest recorded when it was written."""
        folder, names, checks = self.video_dir(meta["video_id"]), meta.get("frame_files") or [], meta.get(FRAME_CHECKS) or []
        return len(names) == len(checks) > 0 and all(atomic.matches(folder / n, c) for n, c in zip(names, checks))

    def valid_entry(self, video_id: str, fingerprint: str, settings: dict, damaged: list | None = None) -> dict | None:
        """The meta row or skip record of ``video_id`` if it was made from this content with these
        settings (and, sampled, its frame files are intact; else its id is added to ``damaged``)."""
        meta = self.meta(video_id)
        if meta is not None:
            if (meta.get("fingerprint") or {}).get("blake2b") != fingerprint or meta.get("sampling") != settings:
                return None
            if self.frames_intact(meta):
                return meta
            if damaged is not None:
                damaged.append(video_id)
            return None
        record = atomic.read_state(self.skip_path(video_id), redo="opening that file again")
        if isinstance(record, dict) and (record.get("fingerprint") or {}).get("blake2b") == fingerprint and record.get("sampling") == settings:
            return record
        return None

    def write_skip(self, video: VideoFile, reason: str, fingerprint: dict | None, settings: dict) -> dict:
        shutil.rmtree(self.video_dir(video.video_id), ignore_errors=True)
        record = {"video_id": video.video_id, "source": str(video.path), "source_rel": video.rel_path, "reason": reason,
                  "fingerprint": fingerprint, "sampling": settings}
        atomic.write_json(self.skip_path(video.video_id), record)
        return record

    def remove(self, video_id: str) -> None:
        shutil.rmtree(self.video_dir(video_id), ignore_errors=True)
        self.skip_path(video_id).unlink(missing_ok=True)

    def ids(self) -> set[str]:
        """Every video id with an entry (sampled or skipped) in the store."""
        found = {p.name for p in (self.root / FRAMES_DIR).glob("*") if not p.name.startswith(atomic.TMP_PREFIX)}
        return found | {p.stem for p in (self.root / SKIPS_DIR).glob("*.json")}


def video_record(video: VideoFile, sampled: SampledVideo, config: SamplingConfig, fingerprint: dict) -> dict:
    """The manifest row describing one sampled video (paths relative to the store root)."""
    return {
        "video_id": video.video_id,
        "source": str(video.path),
        "source_rel": video.rel_path,
        "num_frames": config.num_frames,
        "fingerprint": fingerprint,
        "sampling": asdict(config),
        **sampled.info.to_dict(),
    }


def sample_to_store(store: FrameStore, video: VideoFile, config: SamplingConfig, fingerprint: dict, threads: int = 0) -> tuple[SampledVideo | None, dict]:
    """Sample one video into the store. Returns (sampled or None, manifest row or skip record)."""
    try:
        sampled = sample_video(video.path, config, video_id=video.video_id, threads=threads)
    except SkipVideo as exc:
        return None, store.write_skip(video, exc.reason, fingerprint, asdict(config))
    except Exception as exc:  # a per-item failure must never end the run
        return None, store.write_skip(video, f"unexpected error: {exc.__class__.__name__}: {exc}", fingerprint, asdict(config))
    store.skip_path(video.video_id).unlink(missing_ok=True)
    return sampled, store.write(sampled, video_record(video, sampled, config, fingerprint))


@dataclass(frozen=True)
class _SyncJob:
    root: str
    video: VideoFile
    config: SamplingConfig
    threads: int
    known_hash: str | None  # from the fingerprint cache when the file's stat is unchanged


def _run_sync_job(job: _SyncJob) -> dict:
    """Make the store entry of one file valid: hash it, reuse a matching entry or (re)sample it."""
    store, video, settings = FrameStore(job.root), job.video, asdict(job.config)
    try:
        stat, digest = stat_key(video.path), job.known_hash or content_hash(video.path)
    except OSError as exc:
        record = store.write_skip(video, f"unreadable: {exc.strerror or exc}", None, settings)
        return {"video_id": video.video_id, "record": record, "stat": None, "decoded": False, "peak_rss_mb": peak_rss_mb()}
    fingerprint = {"size_bytes": stat["size_bytes"], "blake2b": digest}
    # with a known hash the caller has already found the entry invalid: sample at once
    record = store.valid_entry(video.video_id, digest, settings) if job.known_hash is None else None
    decoded = record is None
    if decoded:
        _sampled, record = sample_to_store(store, video, job.config, fingerprint, job.threads)
    return {"video_id": video.video_id, "record": record, "stat": {**stat, "blake2b": digest}, "decoded": decoded, "peak_rss_mb": peak_rss_mb()}


@dataclass
class SyncResult:
    """The store's entries for the files it covers (in the order given), sampled or skipped."""

    records: list[dict]  # meta rows (sampled) and skip records, one per covered file
    not_needed: int  # files never opened because enough usable videos were found before them
    decoded: int  # files (re)sampled in this run
    worker_peak_rss_mb: float

    @property
    def sampled(self) -> list[dict]:
        return [r for r in self.records if "reason" not in r]

    @property
    def skipped(self) -> list[dict]:
        return [r for r in self.records if "reason" in r]


def sync_store(store: FrameStore, videos: list[VideoFile], config: SamplingConfig, *, workers: int, progress: bool = True, engine: str = "local",
               usable_needed: int | None = None) -> SyncResult:
    """Bring the store in line with ``videos`` (the input folder as it is now).

    Every file's entry is made valid for its current content and ``config``; entries of files not
    covered are removed. With ``usable_needed``, files are covered in order only until that many
    have been sampled (in batches, so the choice depends on the files alone, never on timing).
    """
    for sub in (FRAMES_DIR, SKIPS_DIR):
        atomic.remove_stale_tmp(store.root / sub)
    cache_path = store.root / FINGERPRINTS
    cache = atomic.read_state(cache_path, redo="hashing every file again")
    cache = cache if isinstance(cache, dict) else {}
    damaged: list[str] = []
    threads = 1 if engine == "ray" else decoder_threads(workers)
    records: dict[str, dict] = {}
    stats: dict[str, dict] = {}
    decoded, rss, position = 0, 0.0, 0
    rel_paths = {v.video_id: v.rel_path for v in videos}
    while position < len(videos):
        usable = sum(1 for r in records.values() if "reason" not in r)
        if usable_needed is not None and usable >= usable_needed:
            break
        batch = videos[position:] if usable_needed is None else videos[position: position + usable_needed - usable]
        position += len(batch)
        jobs = []
        for v in batch:
            known = _cached_hash(cache.get(v.video_id), v)
            record = store.valid_entry(v.video_id, known, asdict(config), damaged) if known else None
            if record is not None:
                records[v.video_id], stats[v.video_id] = record, cache[v.video_id]
            else:
                jobs.append(_SyncJob(str(store.root.resolve()), v, config, threads, known))
        if damaged:
            atomic.warn(f"sampling {len(damaged)} video(s) again whose stored frames are missing, damaged or from an older videossr (first: {damaged[0]})")
            damaged.clear()
        desc = "sampling" if usable_needed is None else f"sampling (first {usable_needed} usable)"
        for result in run_jobs(_run_sync_job, jobs, workers=workers, desc=desc, progress=progress, engine=engine):
            records[result["video_id"]] = result["record"]
            if result["stat"]:
                stats[result["video_id"]] = {"rel": rel_paths[result["video_id"]], **result["stat"]}
            decoded += result["decoded"]
            rss = max(rss, result["peak_rss_mb"])
    covered = [v.video_id for v in videos if v.video_id in records]
    for stale in store.ids() - set(covered):
        store.remove(stale)
    atomic.write_json(cache_path, {vid: stats[vid] for vid in covered if vid in stats})
    return SyncResult([records[vid] for vid in covered], not_needed=len(videos) - len(covered), decoded=decoded, worker_peak_rss_mb=rss)


def _cached_hash(entry: dict | None, video: VideoFile) -> str | None:
    if not isinstance(entry, dict) or entry.get("rel") != video.rel_path:
        return None
    try:
        stat = stat_key(video.path)
    except OSError:
        return None
    return entry["blake2b"] if all(entry.get(k) == v for k, v in stat.items()) else None


@dataclass
class SamplingReport:
    out: Path
    sampled: list[dict]
    skipped: list[dict]
    resumed: int  # files whose entry was already valid (not decoded again)
    worker_peak_rss_mb: float = 0.0  # max over the jobs of this run (0 when nothing ran)
    not_needed: int = 0

    @property
    def reasons(self) -> Counter:
        return Counter(s["reason"].split(":")[0] for s in self.skipped)

    def summary_text(self) -> str:
        lines = [f"sampled {len(self.sampled)} video(s), skipped {len(self.skipped)} file(s) ({self.resumed} already done before this run)"]
        lines += [f"  skipped {n:>4} x {reason}" for reason, n in self.reasons.most_common()]
        if self.not_needed:
            lines.append(f"  {self.not_needed} file(s) not opened: enough usable videos were found before them")
        lines.append(f"manifest: {self.out / MANIFEST}")
        if self.skipped:
            lines.append(f"skip report: {self.out / SKIPPED}")
        return "\n".join(lines)


def check_settings(out: Path, settings: dict) -> None:
    """Refuse to resume into a store written with different sampling settings."""
    state = atomic.read_state(out / SUMMARY, redo="sampling with the settings given")
    if isinstance(state, dict):
        previous = state.get("settings")
        if previous and previous != settings:
            changed = ", ".join(f"{k} {previous.get(k)} -> {settings.get(k)}" for k in sorted(set(previous) | set(settings)) if previous.get(k) != settings.get(k))
            raise UserError(f"{out} was sampled with other settings ({changed}); use a new --out")


@lock_scope()
def sample_folder(video_dir: str | os.PathLike, out: str | os.PathLike, config: SamplingConfig = SamplingConfig(), *, workers: int | None = None, progress: bool = True, engine: str = "local") -> SamplingReport:
    """Sample every video under ``video_dir`` into the frame store at ``out`` (resumable)."""
    video_dir, out = Path(video_dir), Path(out)
    claim_output(video_dir, out, kind="sample")
    settings = asdict(config)
    check_settings(out, settings)
    store = FrameStore(out)
    videos = find_videos(video_dir, exclude=[out])
    result = sync_store(store, videos, config, workers=workers or default_workers(), progress=progress, engine=engine)
    report = finalize(store, result, settings)
    report.worker_peak_rss_mb = result.worker_peak_rss_mb
    return report


def finalize(store: FrameStore, result: SyncResult, settings: dict) -> SamplingReport:
    """Compile manifest.jsonl / skipped.jsonl / sampling.json from the per-video records."""
    drop = ("fingerprint", "sampling")
    sampled = sorted(({k: v for k, v in r.items() if k != FRAME_CHECKS} for r in result.sampled), key=lambda r: r["video_id"])
    skipped = sorted(({k: v for k, v in r.items() if k not in drop} for r in result.skipped), key=lambda r: r["video_id"])
    atomic.write_jsonl(store.root / MANIFEST, sampled)
    atomic.write_jsonl(store.root / SKIPPED, skipped)
    report = SamplingReport(out=store.root, sampled=sampled, skipped=skipped, resumed=len(result.records) - result.decoded, not_needed=result.not_needed)
    atomic.write_json(store.root / SUMMARY, {"settings": settings, "sampled": len(sampled), "skipped": len(skipped), "skip_reasons": dict(report.reasons)})
    return report
