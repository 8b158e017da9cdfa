"""The Ray engine gives the same rows as the local engine for the same seed (local Ray cluster)."""

import pyarrow.parquet as pq
import pytest

from conftest import tree_digest
from videossr.build import build
from videossr.framestore import sample_folder
from videossr.recipe import load_recipe

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _normalised_rows(root):
    rows = pq.read_table(root / "train.parquet").to_pylist()
    for r in rows:
        for v in r["videos"]:
            v["video"] = [p.replace(str(root.resolve()), "") for p in v["video"]]
    return rows


@pytest.mark.slow
def test_ray_build_equals_local_build(local_ray, tmp_path, clips_dir, built_all_tasks):
    report = build(clips_dir, tmp_path / "ray", load_recipe("all-tasks"), engine="ray", progress=False)
    assert report.rows == built_all_tasks[1].rows
    assert _normalised_rows(tmp_path / "ray") == _normalised_rows(built_all_tasks[0])
    assert tree_digest(tmp_path / "ray" / "samples") == tree_digest(built_all_tasks[0] / "samples")


@pytest.mark.slow
def test_ray_sampling_equals_local_sampling(local_ray, tmp_path, clips_dir):
    sample_folder(clips_dir, tmp_path / "local", workers=1, progress=False)
    sample_folder(clips_dir, tmp_path / "ray", engine="ray", progress=False)
    assert (tmp_path / "ray" / "manifest.jsonl").read_text() == (tmp_path / "local" / "manifest.jsonl").read_text()
    assert tree_digest(tmp_path / "ray" / "frames") == tree_digest(tmp_path / "local" / "frames")
