"""Dataset files: the verl parquet (write, relocate) and the evaluation export (JSON + mp4).

verl parquet row (one per sample; every row has the same keys and types)::

    data_source   "videossr/grounding" | "videossr/counting" | "videossr/jigsaw"
    prompt        [{role: system, content}, {role: user, content: "<video>\\n..." (one <video> per videos entry)}]
    videos        [{video: [absolute frame paths], sample_fps, max_pixels, min_pixels}]
    ability       "spatial" | "temporal" | "fine-grained"
    reward_model  {style: "rule", ground_truth: "12.3-20.5" | "3,1,4" | "315264"}
    extra_info    {index, split, sample_id, task, variant, video_id, sample_fps, entry_index,
                   params (JSON text: the ground-truth record), question, answer, new_frames}
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from videossr import atomic
from videossr.errors import UserError
from videossr.names import file_stem, short_repr
from videossr.outputs import claim_output, lock_for_reading, lock_output, lock_scope
from videossr.paths import Confiner, PathOutsideRoot, confined, writing_into
from videossr.seeding import rng_for

TRAIN_FILE, VAL_FILE, TASKS_DIR, DATASET_FILE = "train.parquet", "val.parquet", "tasks", "dataset.json"

SCHEMA = pa.schema([
    ("data_source", pa.string()),
    ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
    ("videos", pa.list_(pa.struct([("video", pa.list_(pa.string())), ("sample_fps", pa.float64()), ("max_pixels", pa.int64()), ("min_pixels", pa.int64())]))),
    ("ability", pa.string()),
    ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
    ("extra_info", pa.struct([
        ("index", pa.int64()), ("split", pa.string()), ("sample_id", pa.string()), ("task", pa.string()), ("variant", pa.string()),
        ("video_id", pa.string()), ("sample_fps", pa.float64()), ("entry_index", pa.int64()), ("params", pa.string()),
        ("question", pa.string()), ("answer", pa.string()), ("new_frames", pa.int64()),
    ])),
])


def _absolute(row: dict, root: str) -> dict:
    videos = [{**v, "video": [f"{root}/{p}" for p in v["video"]]} for v in row["videos"]]
    return {**row, "videos": videos}


def _table(rows: list[dict], split: str) -> pa.Table:
    indexed = [{**r, "extra_info": {**r["extra_info"], "index": i, "split": split}} for i, r in enumerate(rows)]
    return pa.Table.from_pylist(indexed, schema=SCHEMA)


def write_dataset(out: Path, rows: list[dict], *, recipe, root: Path, val_rows: list[dict] | None = None) -> None:
    """Write the mix (shuffled by the recipe seed), one parquet per entry and, with ``val_rows``,
    ``val.parquet``; frame paths under ``root``. Parquets of an earlier build that this one does
    not make (an entry no longer in the recipe, a val split no longer asked for) are removed."""
    root_text = str(root).rstrip("/")

    def by_id(rows_: list[dict]) -> list[dict]:
        return sorted((_absolute(r, root_text) for r in rows_), key=lambda r: r["extra_info"]["sample_id"])

    def shuffled(rows_: list[dict], salt: str) -> list[dict]:
        order = rng_for(recipe.seed, salt, recipe.name).permutation(len(rows_)) if rows_ else []
        return [rows_[i] for i in order]

    train = by_id(rows)
    atomic.write_parquet(out / TRAIN_FILE, _table(shuffled(train, "mix"), "train"))
    by_entry: dict[str, list[dict]] = {}
    for r in train:  # in sample-id order
        by_entry.setdefault(f"{r['extra_info']['task']}-{r['extra_info']['variant']}", []).append(r)
    for key, entry_rows in by_entry.items():
        atomic.write_parquet(out / TASKS_DIR / f"{key}.parquet", _table(entry_rows, "train"))
    for stale in (out / TASKS_DIR).glob("*.parquet") if (out / TASKS_DIR).is_dir() else []:
        if stale.stem not in by_entry:
            stale.unlink()
    if val_rows is not None:
        atomic.write_parquet(out / VAL_FILE, _table(shuffled(by_id(val_rows), "val"), "val"))
    else:
        (out / VAL_FILE).unlink(missing_ok=True)
    atomic.write_json(out / DATASET_FILE, {"format": "videossr-verl-v1", "root": root_text, "recipe": recipe.name, "seed": recipe.seed, "rows": len(rows),
                                           "val_rows": len(val_rows) if val_rows is not None else 0})


def dataset_parquets(dataset_dir: Path) -> list[Path]:
    extra = [dataset_dir / VAL_FILE] if (dataset_dir / VAL_FILE).is_file() else []
    return [dataset_dir / TRAIN_FILE, *extra, *sorted((dataset_dir / TASKS_DIR).glob("*.parquet"))]


@lock_scope()
def relocate(dataset_dir: str | os.PathLike, new_root: str | os.PathLike | None = None) -> int:
    """Point every frame path of a moved dataset at its new location; returns rows rewritten.

    Copy or move the whole dataset folder (``rsync -a OUT/ host:/data/ds/``), then run
    ``videossr relocate /data/ds`` there. ``new_root`` (default: the folder itself) lets you
    write paths for a machine where the folder will be mounted elsewhere.
    """
    dataset_dir = Path(dataset_dir)
    meta_path = dataset_dir / DATASET_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path} not found: not a videossr dataset folder")
    lock_output(dataset_dir, command="relocate")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    old = meta["root"].rstrip("/")
    if new_root is not None and not Path(new_root).is_absolute():
        raise UserError(f"--root must be an absolute path (verl reads the frame paths as they are), got {new_root!r}")
    new = str(Path(new_root) if new_root else dataset_dir.resolve()).rstrip("/")
    with writing_into(dataset_dir, "the dataset folder"):
        return _relocate(dataset_dir, meta_path, meta, old, new)


def _relocate(dataset_dir: Path, meta_path: Path, meta: dict, old: str, new: str) -> int:
    total = 0
    for path in dataset_parquets(dataset_dir):
        table = pq.read_table(path)
        rows = table.to_pylist()
        for row in rows:
            for v in row["videos"]:
                bad = [p for p in v["video"] if not isinstance(p, str) or not p.startswith(old + "/") or os.path.normpath(p) != p]
                if bad:
                    raise UserError(f"{path}: frame path {short_repr(bad[0])} is not a plain path under the recorded root {short_repr(old)}")
                v["video"] = [new + p[len(old):] for p in v["video"]]
        atomic.write_parquet(path, pa.Table.from_pylist(rows, schema=SCHEMA))
        total += len(rows) if path.name == TRAIN_FILE else 0
    atomic.write_json(meta_path, {**meta, "root": new})
    return total


def dataset_root(dataset: str | os.PathLike) -> Path:
    """The folder a dataset's frame paths must stay in: the folder holding ``dataset.json`` (the
    dataset folder, or the parquet's folder or its parent for ``tasks/*.parquet``), else the
    parquet's own folder. Never read from the dataset's files: a file cannot widen its own root."""
    dataset = Path(dataset)
    if dataset.is_dir():
        return dataset
    for folder in (dataset.parent, dataset.parent.parent):
        if (folder / DATASET_FILE).is_file():
            return folder
    return dataset.parent


def confine_frames(rows: list[dict], root: str | os.PathLike, where: str = "dataset") -> list[dict]:
    """``rows`` with every frame path checked to lie inside ``root`` (see :mod:`videossr.paths`) and
    replaced by the checked absolute path; a path outside is one :class:`PathOutsideRoot` error
    naming the sample (a dataset copied without ``videossr relocate`` still points at the old folder)."""
    check = Confiner(root)
    for row in rows:
        sid = short_repr((row.get("extra_info") or {}).get("sample_id"))
        for v in row.get("videos") or []:
            try:
                v["video"] = [str(check(p, what=f"{where}: frame path of sample {sid}")) for p in v["video"]]
            except PathOutsideRoot as exc:
                raise PathOutsideRoot(f"{exc}; if the dataset folder was moved, run `videossr relocate {root}`") from None
    return rows


def load_rows(dataset: str | os.PathLike) -> list[dict]:
    """Rows of a dataset folder's train.parquet, or of a parquet file, with every frame path confined
    to the dataset folder (:func:`confine_frames`)."""
    dataset = Path(dataset)
    path = dataset / TRAIN_FILE if dataset.is_dir() else dataset
    if not path.is_file():
        raise FileNotFoundError(f"no dataset parquet at {path}")
    return confine_frames(pq.read_table(path).to_pylist(), dataset_root(path), str(path))


def read_frame(path: str | os.PathLike):
    """One frame file as an RGB PIL image; a file that is not an image is one error line naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise FileNotFoundError(f"frame {path} does not exist (was the dataset rebuilt or moved?)") from None
        raise UserError(f"frame {path} is not a readable image ({exc.__class__.__name__}: {short_repr(str(exc))})") from None


# ----------------------------------------------------------------------------- evaluation export


def _even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return frame[: h - h % 2, : w - w % 2]


def yuv420p(rgb: np.ndarray) -> np.ndarray:
    """An even-sized RGB frame as one yuv420p plane stack (shape (h * 3 / 2, w), PyAV's layout), in
    integer BT.601 limited-range arithmetic: the same bytes on every machine and in every process
    (no swscale, whose SIMD paths and threading may round differently); chroma from 2x2 RGB means."""
    h, w = rgb.shape[:2]
    c = rgb.astype(np.int32)
    y = ((66 * c[..., 0] + 129 * c[..., 1] + 25 * c[..., 2] + 128) >> 8) + 16
    m = (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2] + 2) >> 2
    u = ((-38 * m[..., 0] - 74 * m[..., 1] + 112 * m[..., 2] + 128) >> 8) + 128
    v = ((112 * m[..., 0] - 94 * m[..., 1] - 18 * m[..., 2] + 128) >> 8) + 128
    return np.concatenate([y.ravel(), u.ravel(), v.ravel()]).astype(np.uint8).reshape(h * 3 // 2, w)


ENCODER = {"crf": "18", "preset": "veryfast", "threads": "1"}  # one x264 thread: its output depends on the thread count
ENCODING_VERSION = "x264-1t-yuv601int"  # part of each mp4's content key: a change of encoding re-encodes


def write_mp4(path: Path, frame_paths: list[str], fps: float) -> None:
    """Encode frames to an H.264 mp4 where frame i is shown at i / fps seconds (atomic).

    The bytes depend only on the frames, ``fps`` and the PyAV/x264 build: one encoder thread
    (x264's output varies with its thread count), our own integer RGB->YUV conversion, and no
    time-dependent metadata, so 1 or N export workers write identical files."""
    import av

    rate = Fraction(fps).limit_denominator(100000)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic.tmp_sibling(path)
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=rate, options=dict(ENCODER))
            stream.codec_context.thread_count = 1
            stream.pix_fmt = "yuv420p"
            for i, fp in enumerate(frame_paths):
                rgb = _even(np.asarray(read_frame(fp)))
                if i == 0:
                    stream.height, stream.width = rgb.shape[:2]
                frame = av.VideoFrame.from_ndarray(yuv420p(rgb), format="yuv420p")
                frame.pts = i
                frame.time_base = 1 / rate
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _clip_key(frame_paths: list[str], fps: float) -> str:
    """What an mp4 is made of: its frames' bytes, its frame rate and the encoding."""
    digest = hashlib.blake2b(f"{ENCODING_VERSION}|{float(fps)!r}".encode(), digest_size=12)
    for fp in frame_paths:
        digest.update(Path(fp).read_bytes())
    return digest.hexdigest()


EXPORT_INDEX = "export-index.json"


@dataclass(frozen=True)
class _ClipJob:
    """The mp4s of one exported item: (file name, frame paths, fps) each, and what they were made from before."""

    out: str
    clips: tuple[tuple[str, tuple[str, ...], float], ...]
    previous: tuple[str | None, ...]


def _run_clip_job(job: _ClipJob) -> dict[str, str]:
    """Encode the item's mp4s whose frames or fps changed; returns {file name: content key}."""
    out, keys = Path(job.out), {}
    for (name, frames, fps), previous in zip(job.clips, job.previous):
        keys[name] = _clip_key(list(frames), fps)
        if previous != keys[name] or not (out / name).is_file():
            write_mp4(out / name, list(frames), fps)
    return keys


@lock_scope()
def export_eval(dataset: str | os.PathLike, out: str | os.PathLike, *, limit: int | None = None, progress: bool = True, workers: int | None = None) -> Path:
    """Write ``out/eval.json`` ({video, question, answer, ...} per sample) and the mp4s it names.

    ``video`` is the sample id; its files are ``videos/<sample_id>.mp4`` (jigsaw: one mp4 per
    clip, ``videos/<sample_id>/clip_<k>.mp4``) at the sample fps, so timestamps in the answer
    match the mp4's own time axis. The export owns ``out``: an mp4 is kept from an earlier run
    only if it was made from the same frames and fps (``export-index.json``), and files of an
    earlier export that this one does not name are deleted. Items are encoded in parallel
    (``workers``, default all cores).
    """
    from videossr.parallel import default_workers, run_jobs

    out = Path(out)
    lock_for_reading(dataset)
    rows = load_rows(dataset)[: limit if limit else None]
    claim_output(None, out, kind="export")
    index_path = out / EXPORT_INDEX
    old_index = json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else {}
    items, jobs = [], []
    for row in rows:
        info = row["extra_info"]
        sid = info["sample_id"]
        clips = row["videos"]
        stem = file_stem(sid)
        names = [f"videos/{stem}.mp4"] if len(clips) == 1 else [f"videos/{stem}/clip_{k + 1}.mp4" for k in range(len(clips))]
        for name in names:
            confined(out, name, what="export file")
        jobs.append(_ClipJob(str(out.resolve()), tuple((n, tuple(c["video"]), float(c["sample_fps"])) for n, c in zip(names, clips)),
                             tuple(old_index.get(n) for n in names)))
        items.append({
            "video": sid, "video_files": names, "question": info["question"], "answer": row["reward_model"]["ground_truth"],
            "data_source": row["data_source"], "task": info["task"], "variant": info["variant"], "sample_fps": info["sample_fps"],
        })
    index: dict[str, str] = {}
    with writing_into(out):
        for keys in run_jobs(_run_clip_job, jobs, workers=workers or default_workers(), desc="exporting", progress=progress):
            index.update(keys)
        _remove_unlisted(out / "videos", {out / name for name in index})
        atomic.write_json(index_path, dict(sorted(index.items())))
        return atomic.write_json(out / "eval.json", items)


def _remove_unlisted(folder: Path, keep: set[Path]) -> None:
    """Delete every file under ``folder`` not in ``keep``, then the folders left empty."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
