"""Shared inputs for the eval tests (not a test module): small outside VQA/VTG JSONs over the real
clips, a small VIUBench folder and a small build dataset, each made once per process."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

from videossr.demo import sample_videos_dir

CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4")
OPTIONS = "\nA. an animal\nB. people on bikes\nC. a man on the phone\nD. an empty road"
VQA_ANSWERS = {"bigbuckbunny.mp4": "A", "bikes.mp4": "B", "carphone_pristine.mp4": "C", "carphone_distorted.mp4": "C"}


def _tmp(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def write_vqa_json(path: Path, *, extra_missing: bool = False) -> Path:
    """Two multiple-choice questions per built-in clip (+ one naming a missing video)."""
    items = []
    for clip in CLIPS:
        items.append({"id": f"{Path(clip).stem}-what", "video": clip, "question": "What does the video show?" + OPTIONS,
                      "answer": VQA_ANSWERS[clip], "category": "content"})
        items.append({"id": f"{Path(clip).stem}-moving", "video": Path(clip).stem, "question": "Is the camera moving?\nA. yes\nB. no",
                      "answer": "A" if clip == "bikes.mp4" else "B", "category": "motion"})
    if extra_missing:
        items.append({"id": "missing-video", "video": "nowhere.mp4", "question": "?" + OPTIONS, "answer": "A", "category": "content"})
    path.write_text(json.dumps(items, indent=1))
    return path


def write_vtg_json(path: Path) -> Path:
    """One temporal-grounding question per built-in clip, intervals in source seconds."""
    spans = {"bigbuckbunny.mp4": "1.0-3.0", "bikes.mp4": "2.0-6.0", "carphone_pristine.mp4": "0.5-2.5", "carphone_distorted.mp4": "1.5-3.5"}
    items = [{"id": Path(c).stem, "video": c, "question": "When does the main action happen?", "answer": spans[c]} for c in CLIPS]
    path.write_text(json.dumps(items, indent=1))
    return path


@functools.lru_cache(maxsize=1)
def small_bench() -> Path:
    """A VIUBench folder with one item per subset (9 items) from the built-in clips."""
    from videossr.viubench.bench import build_bench

    out = _tmp("viubench-") / "bench"
    build_bench(sample_videos_dir(), out, per_subset=1, seed=0, workers=1, progress=False)
    return out


@functools.lru_cache(maxsize=1)
def small_dataset() -> Path:
    """A videossr build (VideoSSR-30K recipe, 16 samples) from the built-in clips."""
    from videossr.build import build
    from videossr.recipe import load_recipe

    out = _tmp("dataset-") / "ds"
    build(sample_videos_dir(), out, load_recipe("videossr30k"), size=16, workers=1, progress=False)
    return out
