"""The test-video generators in tests/media.py produce what they claim (checked with PyAV)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

try:
    import media  # tests/ is on sys.path (pytest's default import mode, no tests/__init__.py)
except ImportError:
    from tests import media

MIN_FRAMES_GOOD, NEED_FRAMES, MIN_SIDE = 60, 48, 32


def probe(path: Path, *, read_codes: bool = False) -> dict:
    """Open and fully decode ``path``'s first video stream; never raises."""
    info = {"opened": False, "has_video": False, "frames": 0, "error": None, "codes": [], "pts": [], "keys": [], "types": set()}
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        info["error"] = type(exc).__name__
        return info
    with container:
        info["opened"] = True
        info["format"] = container.format.name
        info["stream_types"] = sorted(s.type for s in container.streams)
        if not container.streams.video:
            return info
        stream = container.streams.video[0]
        info.update(has_video=True, codec=stream.codec_context.name, width=stream.codec_context.width, height=stream.codec_context.height)
        info["time_base"] = stream.time_base
        try:
            for frame in container.decode(stream):
                if info["frames"] == 0:
                    info["rotation"] = frame.rotation
                info["frames"] += 1
                info["pts"].append(frame.pts)
                info["types"].add(av.video.frame.PictureType(frame.pict_type).name)
                if frame.key_frame:
                    info["keys"].append(frame.pts)
                if read_codes:
                    scale = min(1.0, 320 / max(frame.width, frame.height))
                    rgb = frame.to_ndarray(format="rgb24", width=max(1, round(frame.width * scale)), height=max(1, round(frame.height * scale)))
                    turns = round((frame.rotation or 0) / 90) % 4
                    info["codes"].append(media.read_frame_index(np.rot90(rgb, k=turns)))
        except av.FFmpegError as exc:
            info["error"] = type(exc).__name__
    return info


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    return root, media.make_mixed_folder(root)


# ----------------------------------------------------------------------------- frame pattern


@pytest.mark.parametrize("size", [(160, 120), (175, 143), (144, 256), (3840 // 4, 2160 // 4), (48, 32)])
def test_pattern_index_round_trips(size):
    w, h = size
    for index in [0, 1, 2, 5, 63, 64, 1000, 4095]:
        frame = media.pattern_frame(index, w, h)
        assert frame.shape == (h, w, 3) and frame.dtype == np.uint8
        assert media.read_frame_index(frame) == index
        # still readable after a proportional downscale and a lossy JPEG round trip
        small = Image.fromarray(frame).resize((max(28, w // 2), max(16, h // 2)), Image.BILINEAR)
        buf = io.BytesIO()
        small.save(buf, format="JPEG", quality=60)
        assert media.read_frame_index(np.asarray(Image.open(buf).convert("RGB"))) == index


def test_pattern_frames_differ_from_neighbours():
    for w, h in [(1, 1), (1, 64), (160, 120)]:
        frames = [media.pattern_frame(i, w, h) for i in range(40)]
        for a, b in zip(frames, frames[1:]):
            assert not np.array_equal(a, b)


def test_read_frame_index_rejects_wrong_orientation_and_tiny_images():
    frame = media.pattern_frame(37, 160, 120)
    assert media.read_frame_index(np.rot90(frame)) is None
    assert media.read_frame_index(np.rot90(frame, 2)) is None
    assert media.read_frame_index(frame[:, :10]) is None


# ----------------------------------------------------------------------------- write_video


def test_write_video_odd_sizes_and_codecs(tmp_path):
    for name, kwargs in {
        "x264_444.mp4": dict(codec="libx264", pix_fmt="yuv444p"),
        "mpeg4.avi": dict(codec="mpeg4"),
        "mjpeg.avi": dict(codec="mjpeg", pix_fmt="yuvj420p"),
        "ffv1.mkv": dict(codec="ffv1"),
    }.items():
        path = media.write_video(tmp_path / name, n_frames=12, width=175, height=143, fps=25, **kwargs)
        info = probe(path, read_codes=True)
        assert (info["width"], info["height"], info["frames"]) == (175, 143, 12), name
        assert info["codes"] == list(range(12)), name


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_write_video_rotation_round_trips(tmp_path, rotation):
    path = media.write_video(tmp_path / "r.mp4", n_frames=8, width=192, height=112, fps=25, rotation=rotation)
    info = probe(path, read_codes=True)
    assert info["rotation"] % 360 == rotation % 360  # 180 reads back as -180
    assert (info["width"], info["height"]) == (192, 112)  # coded size; displayed turned
    assert info["codes"] == list(range(8))  # upright once the rotation is applied
    with av.open(str(path)) as container:
        raw = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert media.read_frame_index(raw) is None  # ...and not without it


def test_write_video_vfr_pts_round_trip(tmp_path):
    pts_s = [0, 0.05, 0.1, 0.2, 0.25, 0.5, 0.55, 0.6]
    path = media.write_video(tmp_path / "v.mkv", n_frames=8, width=64, height=48, pts_seconds=pts_s)
    info = probe(path)
    got = [float(p * info["time_base"]) for p in info["pts"]]
    assert got == pytest.approx(pts_s, abs=1e-3)


def test_write_video_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        media.write_video(tmp_path / "a.mp4", n_frames=3, width=32, height=32, pts_seconds=[0, 0.1, 0.1])
    with pytest.raises(ValueError):
        media.write_video(tmp_path / "b.mp4", n_frames=3, width=32, height=32, pts_seconds=[0, 0.1])
    with pytest.raises(ValueError):
        media.write_video(tmp_path / "c.mp4", n_frames=3, width=32, height=32, rotation=45)


def test_write_audio_wav(tmp_path):
    path = media.write_audio(tmp_path / "a.wav", seconds=0.5, codec="pcm_s16le")
    info = probe(path)
    assert info["opened"] and not info["has_video"] and info["stream_types"] == ["audio"]


# ----------------------------------------------------------------------------- mixed folder


def test_mixed_folder_lists_every_file_once(mixed):
    root, expected = mixed
    assert set(expected) == {"good", "bad"}
    good, bad = expected["good"], expected["bad"]
    assert not set(good) & set(bad)
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert on_disk == sorted(good + bad)
    assert len(bad) >= 8 and len(good) >= 16
    assert {"real/bikes.mp4", "real/bigbuckbunny.mp4", "real/more/carphone_pristine.mp4", "real/more/carphone_distorted.mp4"} <= set(good)
    assert {"clip.mp4", "clip.mkv", media.UNICODE_REL_PATH} <= set(good)
    assert set(bad) == set(media.BAD_REASONS)


def test_mixed_folder_good_files_are_sampleable(mixed):
    root, expected = mixed
    for rel in expected["good"]:
        synthetic = not rel.startswith("real/")
        info = probe(root / rel, read_codes=synthetic)
        assert info["has_video"] and info["error"] is None, rel
        assert info["frames"] >= MIN_FRAMES_GOOD, rel
        assert min(info["width"], info["height"]) >= MIN_SIDE, rel
        if synthetic:  # every frame carries its own index, in display orientation
            first = 1000 if rel == "clip.mkv" else 0
            assert info["codes"] == list(range(first, first + info["frames"])), rel


def test_mixed_folder_bad_files_cannot_be_sampled(mixed):
    root, expected = mixed
    for rel in expected["bad"]:
        info = probe(root / rel)
        unusable = (
            not info["opened"]
            or not info["has_video"]
            or info["frames"] < NEED_FRAMES
            or min(info["width"], info["height"]) < MIN_SIDE
        )
        assert unusable, (rel, info)


def test_bad_cases_fail_for_their_stated_reason(mixed):
    root, _ = mixed
    p = {rel: probe(root / rel) for rel in media.BAD_REASONS}
    assert (root / "zero_byte.mp4").stat().st_size == 0 and not p["zero_byte.mp4"]["opened"]
    for rel in ["truncated.mp4", "not_a_video.mp4", "random_bytes.mkv"]:
        assert not p[rel]["opened"], rel
    full = media.real_clip("bikes.mp4").stat().st_size
    assert (root / "truncated.mp4").stat().st_size == int(full * 0.4)
    fs = p["truncated_faststart.mp4"]
    assert fs["opened"] and fs["has_video"] and fs["frames"] < NEED_FRAMES and fs["error"] is not None
    assert p["audio_only.m4a"]["opened"] and p["audio_only.m4a"]["stream_types"] == ["audio"]
    assert p["still.jpg"]["has_video"] and p["still.jpg"]["frames"] == 1
    assert p["too_few_frames.mp4"]["frames"] == 20
    one = p["one_pixel.mp4"]
    assert (one["width"], one["height"]) == (1, 1) and one["frames"] >= MIN_FRAMES_GOOD


def test_good_cases_have_their_stated_property(mixed):
    root, _ = mixed
    p = {rel: probe(root / rel) for rel in [
        "portrait.mp4", "odd_175x143.mp4", "uhd_3840x2160.mp4", "rotated_90.mp4", "rotated_m90.mp4", "vfr.mp4",
        "long_gop.mp4", "bframes.mp4", "clip.mp4", "clip.mkv", "containers/container.mkv",
        "containers/container.webm", "containers/container.avi", "containers/container.mov",
    ]}
    size = lambda rel: (p[rel]["width"], p[rel]["height"])  # noqa: E731
    assert size("portrait.mp4") == (144, 256) and p["portrait.mp4"]["rotation"] == 0
    assert size("odd_175x143.mp4") == (175, 143)
    assert size("uhd_3840x2160.mp4") == (3840, 2160) and p["uhd_3840x2160.mp4"]["frames"] >= 60
    assert size("rotated_90.mp4") == (256, 144) and p["rotated_90.mp4"]["rotation"] == 90
    assert size("rotated_m90.mp4") == (256, 144) and p["rotated_m90.mp4"]["rotation"] == -90

    vfr = p["vfr.mp4"]
    secs = [float(t * vfr["time_base"]) for t in vfr["pts"]]
    gaps = np.round(np.diff(secs), 4)
    assert len(set(gaps.tolist())) >= 3 and gaps.max() <= 0.05 + 1e-3
    assert secs == pytest.approx(media.vfr_pts_seconds(120), abs=1e-3)

    gop = p["long_gop.mp4"]
    assert [float(t * gop["time_base"]) for t in gop["keys"]] == [0.0, 10.0, 20.0]
    assert gop["frames"] == 600

    assert "B" in p["bframes.mp4"]["types"]
    with av.open(str(root / "bframes.mp4")) as container:
        reordered = [pk for pk in container.demux(video=0) if pk.size and pk.dts != pk.pts]
    assert reordered  # decode order differs from presentation order

    assert size("clip.mp4") == (160, 120) and size("clip.mkv") == (192, 108)
    assert p["clip.mp4"]["format"].startswith("mov") and p["clip.mkv"]["format"].startswith("matroska")
    assert (p["containers/container.mkv"]["format"], p["containers/container.mkv"]["codec"]) == ("matroska,webm", "h264")
    assert p["containers/container.webm"]["codec"] == "vp9"
    assert (p["containers/container.avi"]["format"], p["containers/container.avi"]["codec"]) == ("avi", "mpeg4")
    assert p["containers/container.mov"]["format"].startswith("mov")


def test_mixed_folder_is_cached_and_deterministic(mixed, tmp_path):
    root, expected = mixed
    again = media.make_mixed_folder(tmp_path / "again")
    assert again == expected
    for rel in expected["good"] + expected["bad"]:
        assert (tmp_path / "again" / rel).read_bytes() == (root / rel).read_bytes(), rel


def test_generators_write_files(tmp_path):
    # (was a wall-clock limit per generator: a timed unit test, which fails on a loaded machine and measures nothing)
    for make in [media.make_portrait, media.make_vfr, media.make_long_gop, media.make_webm, media.make_truncated_faststart]:
        make(tmp_path / make.__name__)
        written = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size > 0]
        assert written, make.__name__


def test_real_clips_are_found():
    found = sorted(os.listdir(media.real_clips_dir()))
    assert set(media.REAL_CLIPS) <= set(found)
