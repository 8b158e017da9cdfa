"""Frame sampling: N frames evenly spaced in time over the [5 %, 95 %] span of a video.

Decoding is planned from the packet index: one demux pass (no decoding) lists every frame's
presentation timestamp and the keyframes; then, for each target in time order, the decoder
seeks to the target's keyframe when that keyframe lies beyond the current decode position and
otherwise decodes forward. Only the kept frames are converted (resized by swscale straight to
the stored size), so memory holds N small frames, never the whole video.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import av
import numpy as np

DEFAULT_NUM_FRAMES = 48
DEFAULT_MAX_PIXELS = 512 * 512
DEFAULT_MIN_SIDE = 32
SPAN_START, SPAN_END = 0.05, 0.95
MIN_DURATION_S = 0.5
"""Shortest video (on its own timestamps) sampled: answers are times with one decimal, so a video of
0.0002 s (10^6 fps, or squeezed timestamps) would only ever give answers like ``0.0-0.0``."""
MAX_DURATION_S = 1_000_000.0
"""Longest plausible duration (11.6 days); beyond it the timestamps are broken, not the video long."""


class SkipVideo(Exception):
    """A video that cannot be sampled; ``reason`` says why (short, human readable)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SamplingConfig:
    num_frames: int = DEFAULT_NUM_FRAMES
    max_pixels: int = DEFAULT_MAX_PIXELS
    min_side: int = DEFAULT_MIN_SIDE

    def __post_init__(self) -> None:
        if self.num_frames < 2:
            raise ValueError(f"num_frames must be >= 2, got {self.num_frames}")
        if self.max_pixels < self.min_side**2:
            raise ValueError(f"max_pixels={self.max_pixels} is below min_side**2={self.min_side ** 2}")


@dataclass(frozen=True)
class VideoInfo:
    """What was learned about a source video and the frames kept from it.

    ``duration_s`` spans the first frame's start to the last frame's end. ``sample_fps`` is
    ``num_frames / duration_s``: the model sees kept frame ``i`` at ``i / sample_fps`` seconds,
    and every timestamp answer uses that axis. ``pts_seconds`` are the kept frames' own
    presentation times, relative to the first frame of the video.
    """

    duration_s: float
    native_fps: float
    frame_count: int
    sample_fps: float
    frame_indices: tuple[int, ...]
    pts_seconds: tuple[float, ...]
    target_seconds: tuple[float, ...]
    width: int
    height: int
    source_width: int
    source_height: int
    rotation_deg: int
    frames_decoded: int
    keyframe_count: int

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class SampledVideo:
    """Kept frames (``frames``: uint8 array of shape (N, H, W, 3), RGB) and their :class:`VideoInfo`."""

    video_id: str
    source: Path
    frames: np.ndarray = field(repr=False)
    info: VideoInfo

    def __repr__(self) -> str:
        return f"SampledVideo(video_id={self.video_id!r}, frames={tuple(self.frames.shape)}, duration_s={self.info.duration_s:.2f})"


@dataclass(frozen=True)
class _PacketIndex:
    pts: np.ndarray  # sorted presentation timestamps (stream time_base units)
    keyframes: np.ndarray  # sorted keyframe timestamps
    time_base: float


def _index_packets(container, stream) -> _PacketIndex:
    pts_list: list[int] = []
    key_list: list[int] = []
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None:
            continue
        pts_list.append(ts)
        if packet.is_keyframe:
            key_list.append(ts)
    if stream.time_base is None:
        raise SkipVideo("video stream has no time base")
    pts = np.unique(np.asarray(pts_list, dtype=np.int64))
    keys = np.unique(np.asarray(key_list, dtype=np.int64))
    return _PacketIndex(pts=pts, keyframes=keys, time_base=float(stream.time_base))


def _stored_size(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """Largest size with the same aspect and at most ``max_pixels`` pixels (never upscaled)."""
    scale = min(1.0, math.sqrt(max_pixels / float(width * height)))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _times_and_duration(index: _PacketIndex) -> tuple[np.ndarray, float]:
    """Frame times in seconds from the first frame, and the duration (last frame's end)."""
    times = (index.pts - index.pts[0]) * index.time_base
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    return times, float(times[-1] + step)


def plan_targets(index: _PacketIndex, num_frames: int, span: tuple[float, float] = (SPAN_START, SPAN_END), *,
                 whole_frame_steps: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """Choose kept frames: nearest frame to each of ``num_frames`` evenly spaced target times
    over ``span`` (fractions of the duration; default the [5 %, 95 %] span).

    ``whole_frame_steps``: the targets are ``k`` frame periods apart (``k`` the largest whole
    number that fits the span), so on a constant-frame-rate video kept frame ``i`` is exactly at
    ``lo + i * k / native_fps`` and the kept frames' true times form an evenly spaced axis (the
    span may end up to ``k - 1`` frames short of its end).

    Returns (frame indices into ``index.pts``, target times in seconds, duration in seconds).
    Raises :class:`SkipVideo` when the span holds fewer than ``num_frames`` frames, or when the
    duration is outside [:data:`MIN_DURATION_S`, :data:`MAX_DURATION_S`].
    """
    pts = index.pts
    count = len(pts)
    if count == 0:
        raise SkipVideo("no decodable video frames")
    times, duration = _times_and_duration(index)
    if duration <= 0:
        raise SkipVideo(f"video has {count} frame(s) and no duration")
    if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
        what = "too short in time" if duration < MIN_DURATION_S else "implausible duration"
        raise SkipVideo(f"{what}: {count} frames span {duration:.4g} s on their timestamps (need {MIN_DURATION_S:g} s to "
                        f"{MAX_DURATION_S:.0f} s; answers are times with one decimal)")
    lo, hi = span[0] * duration, (span[1] * duration if span[1] < 1.0 else float(times[-1]))  # 1.0: up to the last frame
    in_span = int(np.count_nonzero((times >= lo - 1e-9) & (times <= hi + 1e-9)))
    if in_span < num_frames:
        raise SkipVideo(f"too few frames: {in_span} in the [{span[0]:.0%}, {span[1]:.0%}] span ({count} total), need {num_frames}")
    if whole_frame_steps and num_frames > 1 and count > 1:
        period = float(np.median(np.diff(times)))
        k = max(1, (in_span - 1) // (num_frames - 1))
        hi = lo + (num_frames - 1) * k * period
    targets = np.linspace(lo, hi, num_frames)
    right = np.clip(np.searchsorted(times, targets), 1, count - 1)
    left = right - 1
    chosen = np.where(np.abs(times[left] - targets) <= np.abs(times[right] - targets), left, right)
    if len(np.unique(chosen)) != num_frames:
        raise SkipVideo("frame timing too irregular: two targets map to the same frame")
    return chosen, targets, duration


class _Decoder:
    """Decodes frames at requested timestamps with as little work as the codec allows.

    * Seeks to a target's keyframe only when that keyframe lies beyond the decode position;
      otherwise decodes forward.
    * Feeds packets one by one and tells FFmpeg to skip decoding non-reference frames
      (``skip_frame=NONREF``) unless the packet is a target: no other frame depends on a
      non-reference frame, so the targets decode exactly as in a full decode. If a target frame
      ever fails to come out (a codec that ignores the hint oddly), the decoder seeks back and
      decodes that stretch without skipping, so kept timestamps stay exact.
    """

    def __init__(self, container, stream, keyframes: np.ndarray, targets: set[int]):
        self.container, self.stream, self.keyframes, self.targets = container, stream, keyframes, targets
        self.frames_decoded = 0
        self.skip_nonref = True
        self._iter = None
        self._last_pts: int | None = None

    def _keyframe_at_or_before(self, pts: int) -> int | None:
        pos = bisect.bisect_right(self.keyframes, pts) - 1
        return int(self.keyframes[pos]) if pos >= 0 else None

    def close(self) -> None:
        """Finish the packet generator while its container is still open."""
        if self._iter is not None:
            self._iter.close()
            self._iter = None

    def _frames(self):
        codec = self.stream.codec_context
        for packet in self.container.demux(self.stream):
            ts = packet.pts if packet.pts is not None else packet.dts
            skip = self.skip_nonref and ts is not None and ts not in self.targets
            codec.skip_frame = "NONREF" if skip else "DEFAULT"
            for frame in codec.decode(packet):
                self.frames_decoded += 1
                yield frame

    def _seek(self, pts: int) -> None:
        self.close()
        key = self._keyframe_at_or_before(pts)
        if key is None:  # before the first keyframe: start from the beginning of the stream
            self.container.seek(0, backward=True, any_frame=False)
        else:
            self.container.seek(key, stream=self.stream, backward=True)
        self._iter = self._frames()
        self._last_pts = None

    def frame_at(self, pts: int):
        key = self._keyframe_at_or_before(pts)
        behind = self._last_pts is not None and pts <= self._last_pts
        if self._iter is None or behind or (key is not None and self._last_pts is not None and key > self._last_pts):
            self._seek(pts)
        for frame in self._iter:
            ts = frame.pts if frame.pts is not None else frame.dts
            if ts is None:
                continue
            self._last_pts = ts
            if ts == pts:
                return frame
            if ts > pts:
                if self.skip_nonref:  # the target was not produced: redo this stretch in full
                    self.skip_nonref = False
                    self._seek(pts)
                    return self.frame_at(pts)
                return frame
        raise SkipVideo("truncated: decoding ended before a target frame")


def _to_rgb(frame, size: tuple[int, int], rotation_deg: int) -> np.ndarray:
    width, height = size
    if rotation_deg in (90, 270):
        width, height = height, width
    rgb = frame.to_ndarray(format="rgb24", width=width, height=height)
    if rotation_deg:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=rotation_deg // 90))
    return rgb


def _display_rotation(frame) -> int:
    """FFmpeg's display-matrix angle -> clockwise degrees needed to show the frame upright."""
    angle = getattr(frame, "rotation", 0) or 0
    return int(round(angle / 90.0)) % 4 * 90


def sample_video(path: str | Path, config: SamplingConfig = SamplingConfig(), *, video_id: str = "", threads: int = 0,
                 frames_for: Callable[[int, float], int] | None = None, span: tuple[float, float] = (SPAN_START, SPAN_END),
                 whole_frame_steps: bool = False) -> SampledVideo:
    """Sample ``config.num_frames`` frames from ``path`` (opened read-only).

    ``frames_for(frame_count, duration_s) -> num_frames``, when given, sets the frame count per
    video instead (e.g. fps-driven counts for evaluation, :func:`fps_frame_count`); ``span`` is
    the part of the video sampled, as fractions of its duration (``(0.0, 1.0)``: all of it);
    ``whole_frame_steps`` spaces the kept frames a whole number of frames apart (see :func:`plan_targets`).
    Raises :class:`SkipVideo` with a reason for anything that cannot be sampled.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise SkipVideo("empty file (0 bytes)")
    try:
        container = av.open(str(path), mode="r")
    except av.FFmpegError as exc:
        raise SkipVideo(f"not a readable media file ({exc.__class__.__name__})") from None
    with container:
        if not container.streams.video:
            raise SkipVideo("no video stream (audio-only or not a video)")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if threads != 1 else "SLICE"
        stream.codec_context.thread_count = threads
        try:
            return _sample_open(container, stream, path, config, video_id, frames_for, span, whole_frame_steps)
        except SkipVideo:
            raise
        except (av.FFmpegError, ValueError, OverflowError) as exc:
            raise SkipVideo(f"decode error: {exc.__class__.__name__}: {exc}") from None


def fps_frame_count(frame_count: int, duration_s: float, *, fps: float = 2.0, max_frames: int = 768, min_frames: int = 4, factor: int = 2) -> int:
    """Frames to sample at ``fps``, as qwen-vl-utils' ``smart_nframes`` counts them: ``duration * fps``
    clamped to [``min_frames``, ``max_frames``] (rounded up / down to ``factor``) and to the
    frame count, then rounded down to a multiple of ``factor``."""
    low = math.ceil(min_frames / factor) * factor
    high = math.floor(max_frames / factor) * factor
    wanted = min(max(duration_s * fps, low), high, frame_count)
    return int(math.floor(wanted / factor) * factor)


def _decode_targets(decoder: _Decoder, index: _PacketIndex, chosen: np.ndarray, config: SamplingConfig, src_w: int, src_h: int, display_w: int):
    """Decode the chosen frames into one (N, H, W, 3) array; returns (frames, kept pts in s, rotation)."""
    stack, kept_pts, rotation = None, [], 0
    for i, frame_idx in enumerate(chosen):
        frame = decoder.frame_at(int(index.pts[frame_idx]))
        if stack is None:
            rotation = _display_rotation(frame)
            up_w, up_h = (src_h, display_w) if rotation in (90, 270) else (display_w, src_h)
            size = _stored_size(up_w, up_h, config.max_pixels)
            if min(size) < config.min_side:
                raise SkipVideo(f"frames too small: {up_w}x{up_h} stored as {size[0]}x{size[1]}, need >= {config.min_side} px per side")
            stack = np.empty((config.num_frames, size[1], size[0], 3), dtype=np.uint8)  # filled frame by frame
        stack[i] = _to_rgb(frame, size, rotation)
        kept_pts.append(((frame.pts if frame.pts is not None else frame.dts) - int(index.pts[0])) * index.time_base)
    return stack, kept_pts, rotation


def _sample_open(container, stream, path: Path, config: SamplingConfig, video_id: str, frames_for=None, span=(SPAN_START, SPAN_END),
                 whole_frame_steps: bool = False) -> SampledVideo:
    src_w, src_h = stream.codec_context.width, stream.codec_context.height
    if not src_w or not src_h:
        raise SkipVideo("video stream has no frame size")
    sar = stream.sample_aspect_ratio
    display_w = max(1, int(round(src_w * float(sar)))) if sar and float(sar) > 0 else src_w
    index = _index_packets(container, stream)
    if frames_for is not None and len(index.pts):
        wanted = frames_for(len(index.pts), _times_and_duration(index)[1])
        if wanted < 2:
            raise SkipVideo(f"too short: {len(index.pts)} frames give {wanted} frame(s) to sample")
        config = replace(config, num_frames=wanted)
    chosen, targets, duration = plan_targets(index, config.num_frames, span, whole_frame_steps=whole_frame_steps)
    decoder = _Decoder(container, stream, index.keyframes, {int(index.pts[i]) for i in chosen})
    try:
        stack, kept_pts, rotation = _decode_targets(decoder, index, chosen, config, src_w, src_h, display_w)
    finally:
        decoder.close()
    info = VideoInfo(
        duration_s=round(duration, 6),
        native_fps=round(len(index.pts) / duration, 6),
        frame_count=len(index.pts),
        sample_fps=round(config.num_frames / duration, 6),
        frame_indices=tuple(int(i) for i in chosen),
        pts_seconds=tuple(round(float(t), 6) for t in kept_pts),
        target_seconds=tuple(round(float(t), 6) for t in targets),
        width=int(stack.shape[2]),
        height=int(stack.shape[1]),
        source_width=src_w,
        source_height=src_h,
        rotation_deg=rotation,
        frames_decoded=decoder.frames_decoded,
        keyframe_count=len(index.keyframes),
    )
    return SampledVideo(video_id=video_id or path.stem, source=path, frames=stack, info=info)
