"""Outside benchmarks: a ``{video, question, answer}`` JSON (or JSONL) + a video folder, as VQA or VTG.

Input (the paper's eval item format; extra keys are kept as group labels when they are short
strings, e.g. ``"task"``, ``"subset"``, ``"duration"``)::

    [{"id": "q1", "video": "bikes.mp4", "question": "What ...?\\nA. ...\\nB. ...", "answer": "B"},
     {"video": "bikes", "question": "When does ...?", "answer": "2.5-6.0"}]

``video`` is a path relative to ``video_dir`` (or a name without extension); ``id`` defaults to
the item's position (``"000007"``). ``task``: ``vqa`` when every answer is one letter, ``vtg``
when every answer is an interval, else pass it. Each video is sampled once with our PyAV
sampler over the whole video at fps 2 capped by ``max_frames`` (frame count rounded as
qwen-vl-utils does), frames at most 512x512, into ``work_dir/<video key>/`` (reused on a rerun with the same settings). A video
that cannot be read makes its items item errors.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tqdm import tqdm

from videossr import atomic
from videossr.backends.base import Request, Video
from videossr.errors import UserError
from videossr.evaluate.metrics import extract_letter, interval_iou, option_letters, parse_truth_interval, predicted_interval, recall_metrics, to_source_seconds
from videossr.evaluate.report import group_report
from videossr.evaluate.target import EvalItem, ItemScore, Target
from videossr.sampling import DEFAULT_MAX_PIXELS, SamplingConfig, SkipVideo, fps_frame_count, sample_video

EVAL_FPS = 2.0
EVAL_MIN_PIXELS = 128 * 128  # the paper's evaluation min_pixels (max: 512 * 512)
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg")
SYSTEM_PROMPTS = {
    "vqa": "You are a careful video analyst. Answer with the letter of the correct option only.",
    "vtg": "You are a careful video analyst. Answer with the start and end time of the moment in seconds, as start-end (for example 12.5-20.0).",
}
_LETTER = re.compile(r"\s*\(?([A-Z])\)?\s*")
_GROUP_KEYS = ("task", "subset", "category", "domain", "duration", "type")


def _read_items(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} is neither a JSON list nor JSON lines: {exc}") from None
    if isinstance(data, dict):
        data = data.get("items", data.get("data"))
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise UserError(f"{path} must hold a list of {{video, question, answer}} objects")
    for number, entry in enumerate(data):
        missing = [k for k in ("video", "question", "answer") if k not in entry]
        if missing:
            raise UserError(f"{path}: item {number} has no {', '.join(missing)}")
    return data


def detect_task(answers: list[str]) -> str:
    """``vqa`` if every answer is one option letter, ``vtg`` if every answer is an interval."""
    if answers and all(_LETTER.fullmatch(str(a)) for a in answers):
        return "vqa"
    try:
        for answer in answers:
            parse_truth_interval(answer)
        return "vtg"
    except ValueError:
        raise UserError("cannot tell the task from the answers (neither all option letters nor all 'start-end' intervals): pass --task vqa|vtg") from None


def _resolve_video(video_dir: Path, name: str) -> Path | None:
    direct = video_dir / name
    if direct.is_file():
        return direct
    for suffix in VIDEO_SUFFIXES:
        candidate = video_dir / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _video_key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("/", "__")).strip("._") or "video"


def _video(folder: Path, names: list[str], sample_fps: float) -> Video:
    return Video(frames=tuple(str(folder / n) for n in names), sample_fps=sample_fps, max_pixels=DEFAULT_MAX_PIXELS, min_pixels=EVAL_MIN_PIXELS)


def _sample_frames(source: Path, out: Path, max_frames: int) -> tuple[Video, tuple[float, ...]]:
    """Sample all of ``source`` at fps 2 (capped) into ``out`` once (later calls reuse the frames);
    returns the video part and the kept frames' source timestamps in seconds."""
    from videossr.framestore import encode_jpeg, frame_name

    meta_path = out / "meta.json"
    settings = {"fps": EVAL_FPS, "max_frames": max_frames, "max_pixels": DEFAULT_MAX_PIXELS, "source": str(source.resolve()), "size_bytes": source.stat().st_size}
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("settings") == settings:
            return _video(out, meta["frames"], meta["sample_fps"]), tuple(meta["info"]["pts_seconds"])
    sampled = sample_video(source, SamplingConfig(max_pixels=DEFAULT_MAX_PIXELS), span=(0.0, 1.0),
                           frames_for=lambda count, seconds: fps_frame_count(count, seconds, fps=EVAL_FPS, max_frames=max_frames))
    names = [frame_name(i) for i in range(len(sampled.frames))]
    for name, frame in zip(names, sampled.frames):
        atomic.write_bytes(out / name, encode_jpeg(frame))
    atomic.write_json(meta_path, {"settings": settings, "frames": names, "sample_fps": sampled.info.sample_fps, "info": sampled.info.to_dict()})
    return _video(out, names, sampled.info.sample_fps), sampled.info.pts_seconds


def _score_vqa(item: EvalItem, text: str) -> ItemScore:
    letter = extract_letter(text, item.payload)
    correct = 1.0 if letter is not None and letter == item.ground_truth.strip().strip("()") else 0.0
    return ItemScore(score=correct, strict=correct, parsed=letter, format_ok=letter is not None)


def _score_vtg(item: EvalItem, text: str) -> ItemScore:
    truth, sample_fps, pts_seconds = item.payload
    interval = predicted_interval(text)
    if interval is not None:
        interval = (to_source_seconds(interval[0], sample_fps, pts_seconds), to_source_seconds(interval[1], sample_fps, pts_seconds))
    iou = interval_iou(interval, truth)
    parsed = None if interval is None else f"{interval[0]:.2f}-{interval[1]:.2f}"
    return ItemScore(score=iou, strict=1.0 if iou >= 1.0 - 1e-9 else 0.0, parsed=parsed, format_ok=interval is not None, metrics=recall_metrics(iou))


def _report_vqa(target: Target, results: dict, *, label: str = "model") -> dict:
    return group_report(target, results, label=label, group_keys=target.info["group_keys"], metric="accuracy")


def _report_vtg(target: Target, results: dict, *, label: str = "model") -> dict:
    return group_report(target, results, label=label, group_keys=target.info["group_keys"], metric="mIoU", metric_names=("r@0.3", "r@0.5", "r@0.7"))


def load_outside(path: Path, *, task: str | None, video_dir: Path, max_frames: int, limit: int | None, work_dir: Path, progress: bool = False) -> Target:
    if not video_dir.is_dir():
        raise UserError(f"--video-dir {video_dir} is not a folder")
    if max_frames < 2:
        raise UserError(f"max_frames must be >= 2, got {max_frames}")
    entries = _read_items(path)[:limit]
    task = task or detect_task([e["answer"] for e in entries])
    ids = [str(e.get("id", f"{i:06d}")) for i, e in enumerate(entries)]
    if len(set(ids)) != len(ids):
        raise UserError(f"{path}: item ids are not unique")
    videos: dict[str, tuple[Video, tuple[float, ...]] | str] = {}  # a sampled video and its frames' source seconds, or why not
    names = sorted({str(e["video"]) for e in entries})
    for name in tqdm(names, desc="sample videos", unit="video", disable=not progress):
        source = _resolve_video(video_dir, name)
        if source is None:
            videos[name] = f"video not found: {name} in {video_dir}"
            continue
        try:
            videos[name] = _sample_frames(source, work_dir / _video_key(name), max_frames)
        except SkipVideo as exc:
            videos[name] = f"video {name} cannot be read: {exc.reason}"
    group_keys = ("task",) + tuple(k for k in _GROUP_KEYS[1:] if any(isinstance(e.get(k), str) for e in entries))
    items = []
    for item_id, entry in zip(ids, entries):
        sampled = videos[str(entry["video"])]
        error = sampled if isinstance(sampled, str) else None
        video, pts_seconds = (None, ()) if error else sampled
        answer = str(entry["answer"]).strip()
        if task == "vqa":
            payload = option_letters(entry["question"])
        else:
            payload = (parse_truth_interval(answer), 1.0 if error else video.sample_fps, pts_seconds)
        groups = {"task": task, **{k: str(entry.get(k, "")) for k in group_keys[1:]}}
        request = None if error else Request(system=SYSTEM_PROMPTS[task], parts=(video, "\n" + entry["question"]))
        items.append(EvalItem(id=item_id, request=request, ground_truth=answer, groups=groups, payload=payload, load_error=error))
    info = {"kind": task, "path": str(path.resolve()), "video_dir": str(video_dir.resolve()), "fps": EVAL_FPS, "max_frames": max_frames,
            "max_pixels": DEFAULT_MAX_PIXELS, "group_keys": list(group_keys)}
    scorer, reporter = (_score_vqa, _report_vqa) if task == "vqa" else (_score_vtg, _report_vtg)
    return Target(kind=task, path=str(path.resolve()), items=tuple(items), scorer=scorer, reporter=reporter, info=info)
