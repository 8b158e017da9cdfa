import json

import numpy as np
import pytest

from conftest import tree_digest
from videossr.cli import main
from videossr.framestore import FrameStore, sample_folder
from videossr.sampling import SamplingConfig, SkipVideo, sample_video


def test_real_clips_keep_48_frames_near_evenly_spaced_targets(sampled_clips):
    for vid, sv in sampled_clips.items():
        info = sv.info
        assert sv.frames.shape == (48, info.height, info.width, 3) and sv.frames.dtype == np.uint8
        frame_s = 1.0 / info.native_fps
        targets = np.linspace(0.05 * info.duration_s, 0.95 * info.duration_s, 48)
        assert np.max(np.abs(np.array(info.pts_seconds) - targets)) <= frame_s, vid
        assert np.all(np.diff(info.frame_indices) > 0), vid
        assert info.sample_fps == pytest.approx(48 / info.duration_s, rel=1e-5)
        assert info.width * info.height <= 512 * 512


def test_known_clip_facts(sampled_clips):
    bunny = sampled_clips["bigbuckbunny"].info
    assert bunny.frame_count == 132 and bunny.native_fps == pytest.approx(25.0)
    assert bunny.duration_s == pytest.approx(132 / 25)
    assert (bunny.source_width, bunny.source_height) == (1280, 720)
    assert bunny.width / bunny.height == pytest.approx(1280 / 720, rel=0.01)


def test_kept_frames_match_a_full_decode(clips_dir):
    """The seek/decode-forward plan returns exactly the frames a plain full decode has at those indices."""
    import av

    path = clips_dir / "bikes.mp4"  # several keyframes, so the plan seeks
    sv = sample_video(path, SamplingConfig(max_pixels=640 * 272))
    with av.open(str(path)) as c:
        full = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    for kept, idx in zip(sv.frames, sv.info.frame_indices):
        assert np.array_equal(kept, full[idx])
    assert sv.info.frames_decoded < len(full)


def test_max_pixels_and_fewer_frames(clips_dir):
    sv = sample_video(clips_dir / "bigbuckbunny.mp4", SamplingConfig(num_frames=16, max_pixels=128 * 128))
    assert sv.frames.shape[0] == 16
    assert sv.info.width * sv.info.height <= 128 * 128


def test_too_few_frames_is_a_skip(clips_dir):
    with pytest.raises(SkipVideo, match="too few frames"):
        sample_video(clips_dir / "carphone_pristine.mp4", SamplingConfig(num_frames=200))


def test_sample_folder_writes_store_and_leaves_sources_untouched(tmp_path, clips_dir):
    before = tree_digest(clips_dir)
    report = sample_folder(clips_dir, tmp_path / "out", workers=2, progress=False)
    assert tree_digest(clips_dir) == before
    assert len(report.sampled) == 4 and not report.skipped
    rows = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert [r["video_id"] for r in rows] == sorted(r["video_id"] for r in rows)
    store = FrameStore(tmp_path / "out")
    for r in rows:
        assert len(store.frame_paths(r["video_id"])) == 48
        assert all(p.is_file() for p in store.frame_paths(r["video_id"]))
        assert len(r["pts_seconds"]) == 48 and r["sample_fps"] > 0
    # a rerun does nothing new and gives the same manifest
    again = sample_folder(clips_dir, tmp_path / "out", workers=1, progress=False)
    assert again.resumed == 4
    assert (tmp_path / "out" / "manifest.jsonl").read_text() == "\n".join(json.dumps(r, sort_keys=True) for r in rows) + "\n"


def test_resume_refuses_different_settings(tmp_path, clips_dir):
    sample_folder(clips_dir, tmp_path / "out", SamplingConfig(num_frames=16), workers=1, progress=False)
    with pytest.raises(ValueError, match="different|settings"):
        sample_folder(clips_dir, tmp_path / "out", SamplingConfig(num_frames=48), workers=1, progress=False)


def test_cli_sample_exit_codes(tmp_path, clips_dir, capsys):
    assert main(["sample", str(clips_dir), "--out", str(tmp_path / "o"), "--workers", "1", "--no-progress"]) == 0
    assert "sampled 4 video(s)" in capsys.readouterr().out
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.mp4").write_bytes(b"not a video at all")
    assert main(["sample", str(junk), "--out", str(tmp_path / "o2"), "--no-progress"]) == 1
    assert "no video" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "missing"), "--out", str(tmp_path / "o3")]) == 2
    with pytest.raises(SystemExit):
        main(["sample", str(clips_dir), "--out", str(tmp_path / "o4"), "--workers", "0"])


def test_target_before_the_first_known_keyframe_decodes_from_the_start(clips_dir):
    """Seeking must go back to the stream start, not forward to the first keyframe past the target."""
    import av

    from videossr.sampling import _Decoder, _index_packets

    with av.open(str(clips_dir / "bikes.mp4")) as container:
        stream = container.streams.video[0]
        index = _index_packets(container, stream)
        later_keys = index.keyframes[1:]  # pretend the stream starts mid-GOP
        target = int(index.pts[(index.pts < later_keys[0])][-5])
        decoder = _Decoder(container, stream, later_keys, {target})
        try:
            frame = decoder.frame_at(target)
            assert frame.pts == target
        finally:
            decoder.close()
