"""The frame store: sampled frames on disk, one folder of JPEGs per video, plus a manifest.

Layout under the output root ``OUT``::

    OUT/frames/<video_id>/000000.jpg ... 000047.jpg   kept frames, in time order
    OUT/frames/<video_id>/meta.json                   the manifest row of this video
    OUT/skips/<video_id>.json                         why a file was skipped (kept for resume)
    OUT/manifest.jsonl                                all sampled videos, sorted by id
    OUT/skipped.jsonl                                 all skipped files with reasons
    OUT/sampling.json                                 settings and counts of the last run

A video's folder is written under a temporary name and renamed into place when complete, so
an interrupted run leaves either a whole entry or none; a rerun skips finished videos.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from videossr import atomic
from videossr.discover import VideoFile, find_videos
from videossr.parallel import decoder_threads, default_workers, peak_rss_mb, run_jobs
from videossr.sampling import SampledVideo, SamplingConfig, SkipVideo, sample_video

JPEG_QUALITY = 90
FRAMES_DIR, SKIPS_DIR = "frames", "skips"
MANIFEST, SKIPPED, SUMMARY = "manifest.jsonl", "skipped.jsonl", "sampling.json"


def frame_name(index: int) -> str:
    return f"{index:06d}.jpg"


def encode_jpeg(frame: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def source_fingerprint(path: Path) -> dict:
    st = path.stat()
    return {"size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


class FrameStore:
    """Read and write sampled videos under ``root`` (see the module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def video_dir(self, video_id: str) -> Path:
        return self.root / FRAMES_DIR / video_id

    def skip_path(self, video_id: str) -> Path:
        return self.root / SKIPS_DIR / f"{video_id}.json"

    def meta(self, video_id: str) -> dict | None:
        path = self.video_dir(video_id) / "meta.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def write(self, video: SampledVideo, record: dict) -> dict:
        """Write frames + meta.json atomically as one folder; returns the manifest row."""
        final = self.video_dir(video.video_id)
        staging = atomic.make_staging_dir(final)
        names = [frame_name(i) for i in range(len(video.frames))]
        for name, frame in zip(names, video.frames):
            (staging / name).write_bytes(encode_jpeg(frame))
        row = {**record, "frames_dir": f"{FRAMES_DIR}/{video.video_id}", "frame_files": names}
        (staging / "meta.json").write_text(json.dumps(row, indent=1, sort_keys=True), encoding="utf-8")
        atomic.commit_dir(staging, final)
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

    def cached_skip(self, video: VideoFile) -> dict | None:
        """A previous skip record for this file, if the file has not changed since."""
        path = self.skip_path(video.video_id)
        if not path.is_file():
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
        try:
            same = record.get("fingerprint") == source_fingerprint(video.path)
        except OSError:
            same = False
        return record if same else None

    def write_skip(self, video: VideoFile, reason: str) -> dict:
        try:
            fingerprint = source_fingerprint(video.path)
        except OSError:
            fingerprint = None
        record = {"video_id": video.video_id, "source": str(video.path), "source_rel": video.rel_path, "reason": reason, "fingerprint": fingerprint}
        atomic.write_json(self.skip_path(video.video_id), record)
        return record


def video_record(video: VideoFile, sampled: SampledVideo, config: SamplingConfig) -> dict:
    """The manifest row describing one sampled video (paths relative to the store root)."""
    return {
        "video_id": video.video_id,
        "source": str(video.path),
        "source_rel": video.rel_path,
        "num_frames": config.num_frames,
        "fingerprint": source_fingerprint(video.path),
        **sampled.info.to_dict(),
    }


def sample_to_store(store: FrameStore, video: VideoFile, config: SamplingConfig, threads: int = 0) -> tuple[SampledVideo | None, dict]:
    """Sample one video into the store. Returns (sampled or None, manifest row or skip record)."""
    try:
        sampled = sample_video(video.path, config, video_id=video.video_id, threads=threads)
    except SkipVideo as exc:
        return None, store.write_skip(video, exc.reason)
    except Exception as exc:  # a per-item failure must never end the run
        return None, store.write_skip(video, f"unexpected error: {exc.__class__.__name__}: {exc}")
    return sampled, store.write(sampled, video_record(video, sampled, config))


@dataclass(frozen=True)
class _SampleJob:
    root: str
    video: VideoFile
    config: SamplingConfig
    threads: int


def _run_sample_job(job: _SampleJob) -> dict:
    sampled, record = sample_to_store(FrameStore(job.root), job.video, job.config, job.threads)
    return {"ok": sampled is not None, "record": record, "peak_rss_mb": peak_rss_mb()}


@dataclass
class SamplingReport:
    out: Path
    sampled: list[dict]
    skipped: list[dict]
    resumed: int
    worker_peak_rss_mb: float = 0.0  # max over the jobs of this run (0 when nothing ran)

    @property
    def reasons(self) -> Counter:
        return Counter(s["reason"].split(":")[0] for s in self.skipped)

    def summary_text(self) -> str:
        lines = [f"sampled {len(self.sampled)} video(s), skipped {len(self.skipped)} file(s) ({self.resumed} already done before this run)"]
        lines += [f"  skipped {n:>4} x {reason}" for reason, n in self.reasons.most_common()]
        lines.append(f"manifest: {self.out / MANIFEST}")
        if self.skipped:
            lines.append(f"skip report: {self.out / SKIPPED}")
        return "\n".join(lines)


def check_settings(out: Path, settings: dict) -> None:
    """Refuse to resume into a store written with different sampling settings."""
    path = out / SUMMARY
    if path.is_file():
        previous = json.loads(path.read_text(encoding="utf-8")).get("settings")
        if previous and previous != settings:
            raise ValueError(f"{out} was sampled with settings {previous}; this run uses {settings}. Use a new --out.")


def sample_folder(video_dir: str | os.PathLike, out: str | os.PathLike, config: SamplingConfig = SamplingConfig(), *, workers: int | None = None, progress: bool = True, engine: str = "local") -> SamplingReport:
    """Sample every video under ``video_dir`` into the frame store at ``out`` (resumable)."""
    video_dir, out = Path(video_dir), Path(out)
    if not video_dir.is_dir():
        raise FileNotFoundError(f"video folder not found: {video_dir}")
    settings = asdict(config)
    check_settings(out, settings)
    store = FrameStore(out)
    for sub in (FRAMES_DIR, SKIPS_DIR):
        atomic.remove_stale_tmp(out / sub)
    videos = find_videos(video_dir, exclude=[out])
    todo = [v for v in videos if store.meta(v.video_id) is None and store.cached_skip(v) is None]
    workers = workers or default_workers()
    threads = 1 if engine == "ray" else decoder_threads(workers)
    jobs = [_SampleJob(str(out.resolve()), v, config, threads) for v in todo]
    rss = max((r["peak_rss_mb"] for r in run_jobs(_run_sample_job, jobs, workers=workers, desc="sampling", progress=progress, engine=engine)), default=0.0)
    report = finalize(store, videos, settings, resumed=len(videos) - len(todo))
    report.worker_peak_rss_mb = rss
    return report


def finalize(store: FrameStore, videos: list[VideoFile], settings: dict, resumed: int) -> SamplingReport:
    """Compile manifest.jsonl / skipped.jsonl / sampling.json from the per-video records."""
    sampled, skipped = [], []
    for video in videos:
        meta = store.meta(video.video_id)
        if meta is not None:
            sampled.append(meta)
        else:
            record = store.cached_skip(video) or {"video_id": video.video_id, "source": str(video.path), "source_rel": video.rel_path, "reason": "not processed"}
            skipped.append({k: v for k, v in record.items() if k != "fingerprint"})
    sampled.sort(key=lambda r: r["video_id"])
    skipped.sort(key=lambda r: r["video_id"])
    atomic.write_jsonl(store.root / MANIFEST, sampled)
    atomic.write_jsonl(store.root / SKIPPED, skipped)
    report = SamplingReport(out=store.root, sampled=sampled, skipped=skipped, resumed=resumed)
    atomic.write_json(store.root / SUMMARY, {"settings": settings, "sampled": len(sampled), "skipped": len(skipped), "skip_reasons": dict(report.reasons)})
    return report
