"""A ``{video, question, answer}`` JSON in the pretext formats, scored as VIUBench subsets.

This is how the official VIUBench release (a separate download) and our own ``BENCH/eval/eval.json``
are evaluated: ``videossr eval FILE.json --video-dir DIR --backend ...``. An answer in one of the
pretext formats says the task (:func:`answer_task`): ``"a-b"`` (two numbers) grounding,
``"c,s,t"`` (three integers) counting, a string of distinct digits 1..n jigsaw. The subset comes
from the item's ``subset`` field (else ``task``, ``type``, ``category``), else from the file name
(``ChannelSwap.json``, ``counting_easy.json``, ...), else, for jigsaw only, from the number of clips
(6 easy, 8 hard); a name matches a subset by its words (:func:`subset_from_name`).

``video`` is a path relative to ``--video-dir`` (or a name without extension), a list of paths
for a jigsaw's clips, or, as in our ``eval.json``, the item id with the files in ``video_files``.
Every path must stay inside ``--video-dir`` (one-line error otherwise, before anything is read).
Each video is decoded whole, all its frames up to 48 (more: 48 evenly spaced), at most 512x512,
into ``work_dir`` once; frame i is shown at i / fps of the video, the time axis of its answer.
Items become :class:`videossr.viubench.Item` s, scored and reported exactly as a VIUBench folder
(``videossr.evaluate.viubench_target``), so the scores equal ``videossr viubench score`` on the same
predictions.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from videossr import atomic
from videossr.errors import UserError
from videossr.viubench.subsets import SUBSET_INFO, SUBSETS

MAX_FRAMES = 48  # VIUBench's evaluation: 48 frames at most 512x512 (PAPER.md)
EVAL_MIN_PIXELS = 128 * 128
NAME_FIELDS = ("subset", "task", "type", "category")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v")
_INTERVAL = re.compile(r"\d+(?:\.\d+)?-\d+(?:\.\d+)?")
_COUNTS = re.compile(r"\d+,\d+,\d+")
# the words that name a subset, in a compacted lower-case name (letters and digits only)
_SUBSET_WORDS = {
    "grounding_channel_swap": ("channelswap", "chswap"), "grounding_rotate180": ("rotate",), "grounding_zoom_out": ("zoomout",),
    "grounding_mirror": ("mirror",), "grounding_shuffle": ("shuffle",),
}


def answer_task(answer) -> str | None:
    """``grounding`` / ``counting`` / ``jigsaw`` for an answer in a pretext format, else ``None``."""
    text = str(answer).strip()
    if _INTERVAL.fullmatch(text):
        return "grounding"
    if _COUNTS.fullmatch(text):
        return "counting"
    if text.isdigit() and len(text) in (6, 8) and sorted(text) == [str(k) for k in range(1, len(text) + 1)]:
        return "jigsaw"
    return None


def subset_from_name(name: str) -> str | None:
    """The subset a name says (``"ChannelSwap"``, ``"counting_easy"``, ``"VIUBench-Jigsaw-Hard.json"``), or None."""
    compact = re.sub(r"[^a-z0-9]", "", str(name).lower())
    if compact in (s.replace("_", "") for s in SUBSETS):
        return next(s for s in SUBSETS if s.replace("_", "") == compact)
    found = {s for s, words in _SUBSET_WORDS.items() if any(w in compact for w in words)}
    for task in ("count", "jigsaw"):
        if task in compact:
            found |= {f"{'counting' if task == 'count' else task}_{level}" for level in ("easy", "hard") if level in compact}
    return found.pop() if len(found) == 1 else None


def is_pretext_json(entries: list[dict], path: Path) -> bool:
    """Every answer in a pretext format, and not a plain grounding (VTG) benchmark: some answer is
    counts or an order, or every item's subset is named (field or file name)."""
    tasks = [answer_task(e.get("answer", "")) for e in entries]
    if not entries or None in tasks:
        return False
    return any(t != "grounding" for t in tasks) or all(_named_subset(e, path) for e in entries)


def _named_subset(entry: dict, path: Path) -> str | None:
    for key in NAME_FIELDS:
        if isinstance(entry.get(key), str) and subset_from_name(entry[key]):
            return subset_from_name(entry[key])
    return subset_from_name(path.stem)


def _subset(entry: dict, number: int, path: Path, task: str, clips: int) -> str:
    name = _named_subset(entry, path)
    if name is None and task == "jigsaw":
        name = {6: "jigsaw_easy", 8: "jigsaw_hard"}.get(clips)
    if name is None:
        raise UserError(f"{path}: item {number}: cannot tell its VIUBench subset; give a 'subset' field (e.g. {SUBSETS[2]}) or name the file after it")
    if SUBSET_INFO[name].task != task:
        raise UserError(f"{path}: item {number} is named {name} but its answer {str(entry['answer'])[:40]!r} is a {task} answer")
    return name


def _video_paths(entry: dict, number: int, video_dir: Path, path: Path) -> list[Path]:
    """The item's video files, resolved and confined to ``video_dir``."""
    from videossr.viubench.items import ConfinedPaths

    names = entry.get("video_files") or entry["video"]
    names = [names] if isinstance(names, str) else list(names)
    confined, root = ConfinedPaths(video_dir.resolve(), "--video-dir"), video_dir.resolve()
    found = []
    for name in names:
        candidates = [str(name)] + [f"{name}{suffix}" for suffix in VIDEO_SUFFIXES]
        paths = [Path(confined(c, f"{path}: item {number}")) for c in candidates]
        hit = next((p for p in paths if p.is_file()), None)
        if hit is None:
            raise UserError(f"{path}: item {number}: video {str(name)[:120]!r} not found in {root}")
        found.append(hit)
    return found


def _frames(source: Path, work_dir: Path) -> tuple[tuple[str, ...], float]:
    """All frames of ``source`` (at most 48, evenly spaced) as JPEGs in ``work_dir`` (reused on a
    rerun of the same file); returns their paths and the video's sample fps."""
    from videossr.framestore import encode_jpeg, frame_name
    from videossr.sampling import DEFAULT_MAX_PIXELS, SamplingConfig, sample_video

    key = hashlib.sha256(f"{source.resolve()}|{source.stat().st_size}|{source.stat().st_mtime_ns}".encode()).hexdigest()[:16]
    out = work_dir / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', source.stem)[:80]}-{key}"
    meta_path = out / "meta.json"
    if not meta_path.is_file():
        sampled = sample_video(source, SamplingConfig(max_pixels=DEFAULT_MAX_PIXELS), span=(0.0, 1.0), frames_for=lambda count, _s: min(count, MAX_FRAMES))
        names = [frame_name(i) for i in range(len(sampled.frames))]
        for name, frame in zip(names, sampled.frames):
            atomic.write_bytes(out / name, encode_jpeg(frame))
        atomic.write_json(meta_path, {"frames": names, "sample_fps": sampled.info.sample_fps})
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return tuple(str(out / n) for n in meta["frames"]), float(meta["sample_fps"])


def _user(question: str, clips: int) -> str:
    return f"<video>\n{question}" if clips == 1 else "".join(f"Clip {k + 1}: <video>\n" for k in range(clips)) + question


def load_if_pretext(path: Path, *, video_dir: Path, work_dir: Path, limit: int | None = None, parser: str | None = None):
    """The VIUBench target of ``path`` when it is a pretext-format JSON (:func:`is_pretext_json`), else None."""
    from videossr.evaluate.outside import _read_items

    entries = _read_items(path)
    return load_pretext(path, entries, video_dir=video_dir, work_dir=work_dir, limit=limit, parser=parser) if is_pretext_json(entries, path) else None


def load_pretext(path: Path, entries: list[dict], *, video_dir: Path, work_dir: Path, limit: int | None = None, parser: str | None = None):
    """The :class:`~videossr.evaluate.target.Target` of a pretext-format JSON (see the module doc); answers read
    by ``parser`` as ``viubench score --parser`` reads them (default ``paper``)."""
    from videossr.viubench.parsers import DEFAULT_PARSER

    from videossr.evaluate.target import EvalItem, Target
    from videossr.evaluate.viubench_target import _report, _request, _scorer
    from videossr.rewards import data_source_for
    from videossr.sampling import DEFAULT_MAX_PIXELS, SkipVideo
    from videossr.tasks.base import SYSTEM_PROMPT
    from videossr.viubench import BENCH_VERSION, Item
    from videossr.viubench.items import check_version

    parser = parser or DEFAULT_PARSER
    if not video_dir.is_dir():
        raise UserError(f"--video-dir {video_dir} is not a folder")
    entries = entries[:limit]
    ids = [str(e.get("id", f"{n:06d}")) for n, e in enumerate(entries)]
    if len(set(ids)) != len(ids):
        raise UserError(f"{path}: item ids are not unique")
    for number, entry in enumerate(entries):  # our own eval.json says its version; the official release does not
        if "viubench_version" in entry:
            check_version(entry["viubench_version"], f"{path} item {number}")
    videos = [_video_paths(e, n, video_dir, path) for n, e in enumerate(entries)]  # every path checked before any is read
    items = []
    for number, (item_id, entry, sources) in enumerate(zip(ids, entries, videos)):
        task = answer_task(entry["answer"])
        name = SUBSET_INFO[_subset(entry, number, path, task, len(sources))]
        try:
            decoded = [_frames(s, work_dir) for s in sources]
        except SkipVideo as exc:
            items.append(EvalItem(id=item_id, request=None, ground_truth=str(entry["answer"]), groups={"subset": name.name}, load_error=f"video cannot be read: {exc.reason}"))
            continue
        item = Item(id=item_id, subset=name.name, task=task, variant=name.variant, ability=name.ability, data_source=data_source_for(task),
                    video_id=str(entry["video"]), system_prompt=str(entry.get("system_prompt") or SYSTEM_PROMPT),
                    user=_user(str(entry["question"]), len(sources)), question=str(entry["question"]), answer=str(entry["answer"]).strip(),
                    clips=tuple(frames for frames, _ in decoded), sample_fps=decoded[0][1], max_pixels=DEFAULT_MAX_PIXELS, min_pixels=EVAL_MIN_PIXELS)
        items.append(EvalItem(id=item_id, request=_request(item), ground_truth=item.answer,
                              groups={"subset": item.subset, "task": item.task, "variant": item.variant}, payload=item))
    info = {"kind": "viubench", "path": str(path.resolve()), "video_dir": str(video_dir.resolve()), "viubench_version": BENCH_VERSION,
            "format": "pretext-json", "max_frames": MAX_FRAMES, "max_pixels": DEFAULT_MAX_PIXELS,
            "row_fields": {"viubench_version": BENCH_VERSION} if entries and all("viubench_version" in e for e in entries) else {}}
    info["parser"] = parser
    benches = {e.get("bench") for e in entries}
    if len(benches) == 1 and None not in benches:  # our own export names its bench: the bench's predictions answer it
        info["fingerprint"] = str(benches.pop())
    return Target(kind="viubench", path=str(path.resolve()), items=tuple(items), scorer=_scorer(parser), reporter=_report, info=info, table=lambda r: r["table"])
