"""A folder mixing the real clips with broken and odd files: every good one is sampled, every bad
one is listed with its reason, the run exits 0, sources stay byte-identical."""

import json

import numpy as np
import pytest

from conftest import tree_digest
from media import make_mixed_folder, make_rotated, make_vfr, read_frame_index
from videossr.cli import main
from videossr.discover import find_videos
from videossr.framestore import FrameStore
from videossr.sampling import sample_video


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    expected = make_mixed_folder(root)
    return root, expected


@pytest.mark.slow
def test_mixed_folder_samples_good_and_reports_bad(mixed, tmp_path, capsys):
    root, expected = mixed
    odd_or_broken = len(expected["bad"]) + len(expected["good"]) - 4  # all but the 4 real clips
    assert odd_or_broken >= 10 and len(expected["bad"]) >= 8
    before = tree_digest(root)
    assert main(["sample", str(root), "--out", str(tmp_path / "out"), "--workers", "2", "--no-progress"]) == 0
    assert tree_digest(root) == before
    manifest = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    skipped = [json.loads(line) for line in (tmp_path / "out" / "skipped.jsonl").read_text().splitlines()]
    assert sorted(r["source_rel"] for r in manifest) == expected["good"]
    assert sorted(s["source_rel"] for s in skipped) == expected["bad"]
    assert all(s["reason"] and s["reason"] != "not processed" for s in skipped)
    out = capsys.readouterr().out
    assert f"sampled {len(expected['good'])} video(s), skipped {len(expected['bad'])} file(s)" in out
    store = FrameStore(tmp_path / "out")
    for r in manifest:
        assert len(store.frame_paths(r["video_id"])) == 48
        assert r["width"] * r["height"] <= 512 * 512 and min(r["width"], r["height"]) >= 32
    ids = [v.video_id for v in find_videos(root)]
    assert len(ids) == len(set(ids))


def test_reasons_say_what_is_wrong(mixed, tmp_path):
    root, expected = mixed
    from videossr.framestore import sample_folder

    report = sample_folder(root, tmp_path / "o", workers=1, progress=False)
    reasons = {s["source_rel"]: s["reason"] for s in report.skipped}
    by_name = {rel.rsplit("/", 1)[-1]: reason for rel, reason in reasons.items()}
    assert "empty" in next(r for n, r in by_name.items() if "zero" in n)
    assert "audio-only" in next(r for n, r in by_name.items() if "audio" in n)
    assert "too few frames" in next(r for n, r in by_name.items() if "too_few" in n)
    assert "too small" in next(r for n, r in by_name.items() if "pixel" in n)


def test_rotation_metadata_is_applied(tmp_path):
    path = make_rotated(tmp_path, rotation=90)
    sv = sample_video(path)
    # stored 256x144 with 90 degree display rotation: shown upright as portrait
    assert sv.info.rotation_deg in (90, 270) and sv.info.height > sv.info.width
    decoded = [read_frame_index(f) for f in sv.frames]
    assert decoded == list(sv.info.frame_indices)


def test_variable_frame_rate_picks_frames_nearest_in_time(tmp_path):
    sv = sample_video(make_vfr(tmp_path))
    info = sv.info
    targets = np.linspace(0.05 * info.duration_s, 0.95 * info.duration_s, 48)
    gaps = np.diff(sorted(set(info.pts_seconds)))
    assert np.max(np.abs(np.array(info.pts_seconds) - targets)) <= np.max(gaps)
    assert [read_frame_index(f) for f in sv.frames] == list(info.frame_indices)
