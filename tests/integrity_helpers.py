"""Shared pieces of the build-integrity tests: tiny distinct videos, a small recipe, clean-build comparison."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import tree_digest
from media import write_video

from videossr.build import build
from videossr.recipe import parse_recipe

# every task, a perturbation that borrows from other videos (swap), training-size frames
RECIPE = {
    "name": "integrity",
    "entries": [
        {"task": "grounding", "variant": "mirror", "weight": 1},
        {"task": "grounding", "variant": "swap", "weight": 1},
        {"task": "counting", "variant": "easy", "weight": 1},
        {"task": "jigsaw", "variant": "easy", "weight": 1},
    ],
}


def recipe(**changes):
    return parse_recipe({**RECIPE, **changes})


def make_video(path: Path, variant: int, *, n_frames: int = 60) -> Path:
    """A short 128x96 clip whose content depends on ``variant`` (distinct bytes per variant)."""
    return write_video(path, n_frames=n_frames, width=128, height=96, fps=25, first_index=variant * 100)


def make_folder(folder: Path, count: int, *, first_variant: int = 0) -> Path:
    for k in range(count):
        make_video(folder / f"v{k}.mp4", first_variant + k)
    return folder


def quick_build(src: Path, out: Path, rec=None, **kwargs):
    return build(src, out, rec or recipe(), workers=1, progress=False, **kwargs)


def assert_equals_clean_build(src: Path, out: Path, rec=None, **kwargs) -> None:
    """``out`` is byte for byte what a fresh build of ``src`` (as it is now) writes at the same path."""
    kept = out.with_name(out.name + "-incremental")
    shutil.move(out, kept)
    try:
        quick_build(src, out, rec, **kwargs)
        clean, incremental = tree_digest(out), tree_digest(kept)
        assert incremental.keys() == clean.keys(), f"files differ: only incremental {sorted(incremental.keys() - clean.keys())[:5]}, only clean {sorted(clean.keys() - incremental.keys())[:5]}"
        different = [name for name in clean if clean[name] != incremental[name]]
        assert not different, f"content differs: {different[:5]}"
    finally:
        shutil.rmtree(out, ignore_errors=True)
        shutil.move(kept, out)
