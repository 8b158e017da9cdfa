"""What an evaluation runs over: a :class:`Target` of :class:`EvalItem` and the scorer for them.

``load_target(path, ...)`` recognises three kinds of target:

* a VIUBench folder (``bench.json`` + ``items.jsonl``, from ``videossr viubench build``), scored
  with the VIUBench scorer (``videossr.viubench.score_item``) and reported in the paper layout;
* a ``videossr build`` dataset (a folder with ``train.parquet``, or a parquet file), scored with
  our rewards (smooth, strict, format failures per task and variant);
* an outside benchmark: a JSON list of ``{video, question, answer}`` plus ``video_dir``, as
  multiple-choice VQA (option-letter accuracy) or temporal grounding (mIoU, R@0.3/0.5/0.7),
  ``task="vqa"|"vtg"`` or detected from the answers.

Every item carries its :class:`~videossr.backends.base.Request` (or a ``load_error`` when its
video could not be read: an item error, never a crash), the ground truth, and group labels
(task / variant / subset) for the report. ``Target.score(item, text)`` gives an
:class:`ItemScore`: score in [0, 1], strict 0/1, the parsed answer (``None`` when unparsed) and
``format_ok``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from videossr.backends.base import Request
from videossr.errors import UserError
from videossr.names import did_you_mean
from videossr.viubench.items import BENCH_FILE, ITEMS_FILE

TARGET_KINDS = ("viubench", "dataset", "vqa", "vtg")
DEFAULT_MAX_FRAMES = 32  # outside benchmarks: fps 2 capped at 32 (the paper also reports 48 and 64)


@dataclass(frozen=True)
class ItemScore:
    """One output scored: ``score`` in [0, 1] (the target's main metric), ``strict`` 0/1,
    ``parsed`` (the answer read from the output, ``None`` when nothing could be read) and
    ``format_ok``. ``metrics`` holds extra per-item values the report averages (e.g. ``r@0.5``)."""

    score: float
    strict: float
    parsed: str | None
    format_ok: bool
    metrics: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict:
        return {"score": self.score, "strict": self.strict, "parsed": self.parsed, "format_ok": self.format_ok, **dict(self.metrics)}

    @classmethod
    def from_reward(cls, result, text: str, score: float) -> "ItemScore":
        """``score`` with the strict value and format check of a :class:`videossr.rewards.RewardResult`
        for ``text``; ``parsed`` is the answer region the reward read (``None`` on a format failure)."""
        from videossr.rewards.parsing import locate_answer

        parsed = locate_answer(text)[0] if result.format_ok else None
        return cls(score=score, strict=result.strict, parsed=parsed.strip() if parsed is not None else None, format_ok=result.format_ok)


@dataclass(frozen=True)
class EvalItem:
    """One question: ``id`` (unique in the target), the request, the ground truth and group labels.

    ``groups`` maps label names to values, e.g. ``{"task": "grounding", "variant": "mirror"}``
    or ``{"subset": "jigsaw_easy"}``; ``payload`` is whatever the target's scorer needs beyond
    the ground truth (e.g. the VIUBench item). ``load_error`` is set (and ``request`` is None)
    when the item's input could not be read.
    """

    id: str
    request: Request | None
    ground_truth: str
    groups: dict = field(default_factory=dict, hash=False, compare=False)
    payload: object = field(default=None, repr=False, hash=False, compare=False)
    load_error: str | None = None


@dataclass(frozen=True)
class Target:
    """The items of one benchmark, how to score one output, and how to build the report.

    ``scorer(item, text) -> ItemScore``; ``reporter(target, results, label=...) -> dict`` where results maps
    item id to the list of :class:`ItemScore` of its outputs (missing ids: not answered).
    ``info`` is what identifies the target in predictions and reports (kind, path, version,
    sampling settings).
    """

    kind: str
    path: str
    items: tuple[EvalItem, ...]
    scorer: Callable[[EvalItem, str], ItemScore] = field(repr=False)
    reporter: Callable[["Target", dict], dict] = field(repr=False)
    info: dict = field(default_factory=dict, hash=False, compare=False)
    table: Callable[[dict], str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Target(kind={self.kind!r}, path={self.path!r}, items={len(self.items)})"

    def score(self, item: EvalItem, text: str) -> ItemScore:
        return self.scorer(item, text)

    def report(self, results: dict, *, label: str = "model") -> dict:
        """The report over ``results`` ({item id: [ItemScore, ...]}); ``label`` names the model."""
        return self.reporter(self, results, label=label)

    def format_table(self, report: dict) -> str:
        """The human-readable table of a report (the target's own layout)."""
        from videossr.evaluate.report import format_generic

        return self.table(report) if self.table is not None else format_generic(report)


def detect_kind(path: Path) -> str:
    """``viubench`` / ``dataset`` / ``outside`` for a path, from the files it holds."""
    if path.is_dir():
        if (path / BENCH_FILE).is_file() and (path / ITEMS_FILE).is_file():
            return "viubench"
        if (path / "train.parquet").is_file():
            return "dataset"
        raise UserError(f"{path} is neither a VIUBench folder (bench.json + items.jsonl) nor a videossr build dataset (train.parquet)")
    if path.suffix == ".parquet":
        return "dataset"
    if path.suffix in (".json", ".jsonl"):
        return "outside"
    raise UserError(f"cannot tell what {path} is: give a VIUBench folder, a build dataset (folder or .parquet) or a {{video, question, answer}} JSON")


def load_target(path: str | os.PathLike, *, task: str | None = None, video_dir: str | os.PathLike | None = None, max_frames: int = DEFAULT_MAX_FRAMES,
                limit: int | None = None, work_dir: str | os.PathLike | None = None, progress: bool = False, fps: float | None = None,
                prompt_template: str | None = None) -> Target:
    """Load the items of a VIUBench folder, a build dataset or an outside VQA/VTG JSON.

    ``task`` (``vqa``/``vtg``) forces the kind of an outside JSON (default: detected from the
    answers); ``video_dir`` is where its videos are; they are sampled at fps 2 capped by
    ``max_frames`` into ``work_dir`` (required for outside JSONs; the eval runner passes
    ``OUT/frames``). ``limit`` keeps the first N items. ``fps`` (default 2) and ``prompt_template``
    (``{question}`` placeholder) are for outside JSONs (see :mod:`videossr.evaluate.outside`).
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"no such target: {path}")
    if limit is not None and limit < 1:
        raise UserError(f"limit must be >= 1, got {limit}")
    kind = detect_kind(path)
    if task is not None and task not in ("vqa", "vtg"):
        raise UserError(f"unknown outside task {task!r}{did_you_mean(task, ('vqa', 'vtg'))}")
    if kind != "outside" and (task is not None or video_dir is not None):
        raise UserError(f"--task and --video-dir are for outside JSON benchmarks; {path} is a {kind}")
    if kind != "outside" and (fps is not None or prompt_template is not None):
        raise UserError(f"--fps and --prompt-template are for outside JSON benchmarks; {path} is a {kind} (it keeps its own prompts and time axis)")
    if kind == "viubench":
        from videossr.evaluate.viubench_target import load_viubench

        return load_viubench(path, limit=limit)
    if kind == "dataset":
        from videossr.evaluate.dataset_target import load_dataset

        return load_dataset(path, limit=limit)
    from videossr.evaluate.outside import load_outside

    if video_dir is None:
        raise UserError(f"{path} is an outside benchmark JSON: give --video-dir (the folder its videos are in)")
    if work_dir is None:
        raise UserError("an outside benchmark needs a work_dir for its sampled frames")
    extra = {"fps": fps} if fps is not None else {}
    return load_outside(path, task=task, video_dir=Path(video_dir), max_frames=max_frames, limit=limit, work_dir=Path(work_dir), progress=progress,
                        prompt_template=prompt_template, **extra)
