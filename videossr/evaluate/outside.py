"""Outside benchmarks: a ``{video, question, answer}`` JSON (or JSONL) + a video folder, as VQA or VTG.

Input (the paper's eval item format; extra keys are kept as group labels when they are short
strings, e.g. ``"task"``, ``"subset"``, ``"domain"``, ``"duration"``)::

    [{"id": "q1", "video": "bikes.mp4", "question": "What ...?\\nA. ...\\nB. ...", "answer": "B"},
     {"video": "bikes", "question": "When does ...?", "answer": "2.5-6.0"}]

``video`` is a path relative to ``video_dir`` (or a name without extension); a name that leads
outside ``video_dir`` (``../x.mp4``, an absolute path) is refused before anything is read;
symbolic links inside ``video_dir`` are followed (the folder is the user's). ``id`` defaults to
the item's position (``"000007"``). ``task``: ``vqa`` when every answer names an option letter
(``B``, ``b``, ``(B)``, ``B. text``), ``vtg`` when every answer is an interval, else pass it. A
VQA truth that names no option of its question, or a VTG truth that is no interval, is an item
error (reported, never scored 0).

**The video's own time axis.** Each video is sampled once with our PyAV sampler over the whole
video at ``fps`` (2) capped by ``max_frames`` (frame count rounded as qwen-vl-utils does), frames
at most 512x512, into ``work_dir/<video key>/`` (reused on a rerun with the same settings). The
kept frames are a whole number ``k`` of source frames apart from the first frame, so frame ``i``
is at ``i * k / native_fps`` seconds of the video, and the video part's ``sample_fps`` is
``native_fps / k``: every backend shows frame ``i`` at ``i / sample_fps`` (the processor's
``<t seconds>``, vLLM's ``media_io_kwargs`` fps, or the ``<t seconds>`` texts of frames mode),
which is the frame's true time in the video, as Qwen3-VL's own pipeline shows it. Answers are
therefore scored in video seconds with no mapping, clipped to the video's duration. (A
variable-frame-rate video keeps the nearest frame to each step; ``meta.json`` records the
largest difference.) A video that cannot be read makes its items item errors.

The user turn is the video then ``prompt_template`` with ``{question}`` replaced (default for
VQA: the question and a line asking for the option letter only, the paper's VQA setting).
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm import tqdm

from videossr import atomic
from videossr.backends.base import Request, Video
from videossr.errors import UserError
from videossr.evaluate.metrics import (clip_interval, extract_letter, interval_iou, parse_options, parse_truth_interval, predicted_interval,
                                       recall_metrics, truth_letter)
from videossr.evaluate.choices import ALL_LETTERS
from videossr.evaluate.report import group_report
from videossr.evaluate.target import EvalItem, ItemScore, Target
from videossr.sampling import DEFAULT_MAX_PIXELS, SamplingConfig, SkipVideo, fps_frame_count, sample_video

EVAL_FPS = 2.0  # the paper's general eval (upstream: qwen-vl-utils fps 2)
AXIS_VERSION = "video-seconds-1"  # frames on the video's own time axis (sampled frames of earlier versions are redone)
EVAL_MIN_PIXELS = 128 * 128  # the paper's evaluation min_pixels (max: 512 * 512)
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg")
SYSTEM_PROMPTS = {
    "vqa": "You are a careful video analyst. Answer with the letter of the correct option only.",
    "vtg": "You are a careful video analyst. Answer with the start and end time of the moment in seconds, as start-end (for example 12.5-20.0).",
}
DEFAULT_PROMPTS = {
    "vqa": "{question}\nReply with only the letter of the correct option.",
    "vtg": "{question}",
}
QUESTION_FIELD = "{question}"
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


def detect_task(entries: list[dict]) -> str:
    """``vqa`` if every answer names an option letter of its question, ``vtg`` if every answer is an interval."""
    if entries and all(truth_letter(e["answer"], parse_options(str(e["question"])) or ALL_LETTERS) for e in entries):
        return "vqa"
    try:
        for entry in entries:
            parse_truth_interval(entry["answer"])
        return "vtg"
    except ValueError:
        raise UserError("cannot tell the task from the answers (neither all option letters nor all 'start-end' intervals): pass --task vqa|vtg") from None


def check_video_name(name: str) -> None:
    """Refuse a ``video`` that leads outside the video folder (absolute, ``..``, a drive): a UserError naming it."""
    path = PurePosixPath(name.replace("\\", "/"))
    if not name or path.is_absolute() or PureWindowsPath(name).drive or ".." in path.parts or "\x00" in name:
        raise UserError(f"video {name[:120]!r} leads outside --video-dir; give a path relative to the video folder")


def _resolve_video(video_dir: Path, name: str) -> Path | None:
    """The file ``name`` names inside ``video_dir`` (symbolic links inside it are followed), or None."""
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


def axis_fps(target_seconds: tuple[float, ...]) -> float:
    """The fps that puts kept frame ``i`` at its step on the video's axis: ``(N - 1) / span of the targets``."""
    span = target_seconds[-1] - target_seconds[0]
    return (len(target_seconds) - 1) / span if span > 0 else 1.0


def _sample_frames(source: Path, out: Path, fps: float, max_frames: int) -> tuple[Video, dict]:
    """Sample all of ``source`` on its own time axis into ``out`` once (later calls reuse the frames);
    returns the video part and ``{"duration_s", "pts_seconds", "axis_error_s"}``."""
    from videossr.framestore import encode_jpeg, frame_name

    meta_path = out / "meta.json"
    settings = {"axis": AXIS_VERSION, "fps": fps, "max_frames": max_frames, "max_pixels": DEFAULT_MAX_PIXELS, "source": str(source.resolve()),
                "size_bytes": source.stat().st_size}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        if meta.get("settings") == settings:
            return _video(out, meta["frames"], meta["sample_fps"]), meta["axis"]
    sampled = sample_video(source, SamplingConfig(max_pixels=DEFAULT_MAX_PIXELS), span=(0.0, 1.0), whole_frame_steps=True,
                           frames_for=lambda count, seconds: fps_frame_count(count, seconds, fps=fps, max_frames=max_frames))
    info = sampled.info
    sample_fps = axis_fps(info.target_seconds)
    axis = {"duration_s": info.duration_s, "pts_seconds": list(info.pts_seconds),
            "axis_error_s": round(max(abs(t - i / sample_fps) for i, t in enumerate(info.pts_seconds)), 6)}
    names = [frame_name(i) for i in range(len(sampled.frames))]
    for name, frame in zip(names, sampled.frames):
        atomic.write_bytes(out / name, encode_jpeg(frame))
    atomic.write_json(meta_path, {"settings": settings, "frames": names, "sample_fps": sample_fps, "axis": axis, "info": info.to_dict()})
    return _video(out, names, sample_fps), axis


def render_prompt(template: str, question: str) -> str:
    """``template`` with ``{question}`` replaced by the question (no other placeholder is read)."""
    return template.replace(QUESTION_FIELD, question)


def check_prompt_template(template: str | None) -> None:
    if template is not None and template.count(QUESTION_FIELD) != 1:
        raise UserError(f"--prompt-template must hold {QUESTION_FIELD} exactly once, got {template[:80]!r}")


def _score_vqa(item: EvalItem, text: str) -> ItemScore:
    letter = extract_letter(text, item.payload)
    correct = 1.0 if letter is not None and letter == item.ground_truth else 0.0
    return ItemScore(score=correct, strict=correct, parsed=letter, format_ok=letter is not None)


def _score_vtg(item: EvalItem, text: str) -> ItemScore:
    truth, duration_s = item.payload
    interval = clip_interval(predicted_interval(text), duration_s)
    iou = interval_iou(interval, truth)
    parsed = None if interval is None else f"{interval[0]:.2f}-{interval[1]:.2f}"
    return ItemScore(score=iou, strict=1.0 if iou >= 1.0 - 1e-9 else 0.0, parsed=parsed, format_ok=interval is not None, metrics=recall_metrics(iou))


def _report_vqa(target: Target, results: dict, *, label: str = "model") -> dict:
    return group_report(target, results, label=label, group_keys=tuple(target.info["group_keys"]), metric="accuracy", marginal=True)


def _report_vtg(target: Target, results: dict, *, label: str = "model") -> dict:
    return group_report(target, results, label=label, group_keys=tuple(target.info["group_keys"]), metric="mIoU", metric_names=("r@0.3", "r@0.5", "r@0.7"),
                        marginal=True)


def _sample_all(entries: list[dict], video_dir: Path, work_dir: Path, fps: float, max_frames: int, progress: bool) -> dict:
    """{video name: (video part, axis) or why not}, every name checked before anything is read."""
    names = sorted({str(e["video"]) for e in entries})
    for name in names:
        check_video_name(name)
    videos: dict = {}
    for name in tqdm(names, desc="sample videos", unit="video", disable=not progress):
        source = _resolve_video(video_dir, name)
        if source is None:
            videos[name] = f"video not found: {name} in {video_dir}"
            continue
        try:
            videos[name] = _sample_frames(source, work_dir / _video_key(name), fps, max_frames)
        except SkipVideo as exc:
            videos[name] = f"video {name} cannot be read: {exc.reason}"
    return videos


def _item(item_id: str, entry: dict, task: str, sampled, template: str, group_keys: tuple[str, ...]) -> EvalItem:
    error = sampled if isinstance(sampled, str) else None
    video, axis = (None, None) if error else sampled
    answer = str(entry["answer"]).strip()
    groups = {"task": task, **{k: str(entry.get(k, "")) for k in group_keys[1:]}}
    if task == "vqa":
        options = parse_options(str(entry["question"])) or ALL_LETTERS
        truth = truth_letter(answer, options)
        if truth is None:
            error = error or f"ground truth {answer[:60]!r} names no option of the question ({', '.join(options)})"
        payload, answer = options, truth or answer
    else:
        try:
            truth = parse_truth_interval(answer)
        except ValueError as exc:
            truth, error = (0.0, 0.0), error or str(exc)
        payload = (truth, axis["duration_s"] if axis else 0.0)
    request = None if error else Request(system=SYSTEM_PROMPTS[task], parts=(video, "\n" + render_prompt(template, str(entry["question"]))))
    return EvalItem(id=item_id, request=request, ground_truth=answer, groups=groups, payload=payload, load_error=error)


def load_outside(path: Path, *, task: str | None, video_dir: Path, max_frames: int, limit: int | None, work_dir: Path, progress: bool = False,
                 fps: float = EVAL_FPS, prompt_template: str | None = None) -> Target:
    if not video_dir.is_dir():
        raise UserError(f"--video-dir {video_dir} is not a folder")
    if max_frames < 2:
        raise UserError(f"max_frames must be >= 2, got {max_frames}")
    if not (isinstance(fps, (int, float)) and 0 < fps <= 60):
        raise UserError(f"--fps must be in (0, 60], got {fps}")
    check_prompt_template(prompt_template)
    entries = _read_items(path)[:limit]
    task = task or detect_task(entries)
    template = prompt_template if prompt_template is not None else DEFAULT_PROMPTS[task]
    ids = [str(e.get("id", f"{i:06d}")) for i, e in enumerate(entries)]
    if len(set(ids)) != len(ids):
        raise UserError(f"{path}: item ids are not unique")
    videos = _sample_all(entries, video_dir, work_dir, float(fps), max_frames, progress)
    group_keys = ("task",) + tuple(k for k in _GROUP_KEYS[1:] if any(isinstance(e.get(k), str) for e in entries))
    items = [_item(item_id, entry, task, videos[str(entry["video"])], template, group_keys) for item_id, entry in zip(ids, entries)]
    info = {"kind": task, "path": str(path.resolve()), "video_dir": str(video_dir.resolve()), "fps": float(fps), "max_frames": max_frames,
            "max_pixels": DEFAULT_MAX_PIXELS, "time_axis": AXIS_VERSION, "prompt_template": template, "group_keys": list(group_keys)}
    scorer, reporter = (_score_vqa, _report_vqa) if task == "vqa" else (_score_vtg, _report_vtg)
    return Target(kind=task, path=str(path.resolve()), items=tuple(items), scorer=scorer, reporter=reporter, info=info)
