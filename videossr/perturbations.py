"""The perturbation registry for anomaly grounding.

A perturbation changes a segment of frames. Randomness is drawn once by ``draw(rng, length)``
into a JSON-able params dict; applying is then deterministic:

* pixel perturbations map the segment's frames to new frames: ``pixel(frames, params, donor)``
  with ``frames`` of shape (length, H, W, 3), uint8, and the same shape out;
* temporal perturbations re-order existing frames: ``order(start, length, total, params)``
  gives, for each slot of the segment, the index of the original frame shown there.

Every output frame keeps the input's size: Rotate90/270 rotate the frame and fit it back into
the original H x W (scaled down to fit, centred on black), ZoomOut shrinks onto black.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from videossr.names import unknown

PixelFn = Callable[[np.ndarray, dict, "np.ndarray | None"], np.ndarray]
OrderFn = Callable[[int, int, int, dict], list]


@dataclass(frozen=True)
class Perturbation:
    name: str
    # the question's words for what was done to the segment ("... one continuous segment in which
    # <description>."): the operation only, at the same level of detail for every perturbation,
    # never the visual cue to look for (e.g. zoom_out's black border)
    description: str
    draw: Callable[[np.random.Generator, int], dict]
    pixel: PixelFn | None = None
    order: OrderFn | None = None
    needs_donor: bool = False  # frames of another video (Swap)
    in_default_pool: bool = True

    def __post_init__(self) -> None:
        if (self.pixel is None) == (self.order is None):
            raise ValueError(f"perturbation {self.name!r} needs exactly one of pixel / order")

    @property
    def temporal(self) -> bool:
        return self.order is not None


REGISTRY: dict[str, Perturbation] = {}


def register(p: Perturbation) -> Perturbation:
    if p.name in REGISTRY:
        raise ValueError(f"perturbation {p.name!r} is already registered")
    REGISTRY[p.name] = p
    return p


def get(name: str) -> Perturbation:
    if name not in REGISTRY:
        raise unknown("perturbation", name, sorted(REGISTRY))
    return REGISTRY[name]


def default_pool() -> list[str]:
    return [name for name, p in REGISTRY.items() if p.in_default_pool]


# ----------------------------------------------------------------------------- pixel kernels


def _no_params(rng: np.random.Generator, length: int) -> dict:
    return {}


def _per_frame(fn: Callable[[Image.Image], Image.Image]) -> PixelFn:
    def apply(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
        return np.stack([np.asarray(fn(Image.fromarray(f)).convert("RGB")) for f in frames])

    return apply


def grayscale(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
    luma = frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(np.clip(luma + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)


def invert(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
    return 255 - frames


def channel_swap(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
    out = np.empty_like(frames)  # three plane copies beat one reversed-stride copy by ~2x
    out[..., 0], out[..., 1], out[..., 2] = frames[..., 2], frames[..., 1], frames[..., 0]
    return out


def mirror(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
    return np.ascontiguousarray(frames[:, :, ::-1])


def rotate180(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
    return np.ascontiguousarray(frames[:, ::-1, ::-1])


def _fit_on_black(image: Image.Image, width: int, height: int) -> np.ndarray:
    """Scale ``image`` to fit inside width x height (aspect kept) and centre it on black."""
    scale = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    canvas = Image.new("RGB", (width, height))
    canvas.paste(image.resize(size, Image.BILINEAR), ((width - size[0]) // 2, (height - size[1]) // 2))
    return np.asarray(canvas)


def _rotate_fit(k: int) -> PixelFn:
    def apply(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
        h, w = frames.shape[1:3]
        return np.stack([_fit_on_black(Image.fromarray(np.ascontiguousarray(np.rot90(f, k=k))), w, h) for f in frames])

    return apply


def _draw_noise(rng: np.random.Generator, length: int) -> dict:
    return {"sigma": round(float(rng.uniform(35.0, 70.0)), 3), "noise_seed": int(rng.integers(0, 2**63 - 1))}


def noise(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
    gen = np.random.default_rng(params["noise_seed"])
    noisy = frames.astype(np.float32) + gen.normal(0.0, params["sigma"], size=frames.shape).astype(np.float32)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def _draw_zoom_in(rng: np.random.Generator, length: int) -> dict:
    return {"zoom": round(float(rng.uniform(1.3, 1.5)), 4)}


def zoom_in(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
    h, w = frames.shape[1:3]
    cw, ch = max(1, round(w / params["zoom"])), max(1, round(h / params["zoom"]))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return np.stack([np.asarray(Image.fromarray(f[y0 : y0 + ch, x0 : x0 + cw]).resize((w, h), Image.BILINEAR)) for f in frames])


def _draw_zoom_out(rng: np.random.Generator, length: int) -> dict:
    return {"zoom": round(float(rng.uniform(1.2, 1.4)), 4)}


def zoom_out(frames: np.ndarray, params: dict, donor=None) -> np.ndarray:
    h, w = frames.shape[1:3]
    size = (max(1, round(w / params["zoom"])), max(1, round(h / params["zoom"])))
    out = np.zeros_like(frames)
    x0, y0 = (w - size[0]) // 2, (h - size[1]) // 2
    for i, f in enumerate(frames):
        out[i, y0 : y0 + size[1], x0 : x0 + size[0]] = np.asarray(Image.fromarray(f).resize(size, Image.BILINEAR))
    return out


def _draw_swap(rng: np.random.Generator, length: int) -> dict:
    return {"donor_pick": int(rng.integers(0, 2**31 - 1))}


def swap(frames: np.ndarray, params: dict, donor: np.ndarray | None = None) -> np.ndarray:
    """Replace the segment by consecutive frames of another video, resized to this video's size."""
    if donor is None:
        raise ValueError("swap needs donor frames from another video")
    h, w = frames.shape[1:3]
    start = params.get("donor_start", 0)
    picked = donor[start : start + len(frames)]
    return np.stack([np.asarray(Image.fromarray(f).resize((w, h), Image.BILINEAR)) for f in picked])


# ----------------------------------------------------------------------------- temporal kernels


def _draw_shuffle(rng: np.random.Generator, length: int) -> dict:
    perm = np.arange(length)
    while np.array_equal(perm, np.arange(length)):
        perm = rng.permutation(length)
    return {"permutation": [int(i) for i in perm]}


def shuffle(start: int, length: int, total: int, params: dict) -> list:
    return [start + i for i in params["permutation"]]


def _draw_stutter(rng: np.random.Generator, length: int) -> dict:
    return {"held_frames": int(rng.integers(2, 6))}


def stutter_hold(start: int, length: int, total: int, params: dict) -> list:
    """``held_frames`` frames, evenly spread over the segment, each held to fill the segment."""
    held = params["held_frames"]
    sources = np.linspace(start, start + length - 1, held).round().astype(int)
    return [int(sources[min(held - 1, slot * held // length)]) for slot in range(length)]


def slow(start: int, length: int, total: int, params: dict) -> list:
    """Half speed: slot i shows frame start + i // 2 (the video then jumps forward to resume)."""
    return [start + slot // 2 for slot in range(length)]


def fast(start: int, length: int, total: int, params: dict) -> list:
    """Double speed: slot i shows frame start + 2 i (capped at the last frame; the video then jumps back)."""
    return [min(total - 1, start + 2 * slot) for slot in range(length)]


for _p in (
    Perturbation("grayscale", "the frames are converted to grayscale", _no_params, pixel=grayscale),
    Perturbation("invert", "the colours are inverted", _no_params, pixel=invert),
    Perturbation("channel_swap", "the red and blue colour channels are swapped", _no_params, pixel=channel_swap),
    Perturbation("rotate90", "the picture is rotated 90 degrees counter-clockwise", _no_params, pixel=_rotate_fit(1)),
    Perturbation("rotate180", "the picture is rotated 180 degrees", _no_params, pixel=rotate180),
    Perturbation("rotate270", "the picture is rotated 90 degrees clockwise", _no_params, pixel=_rotate_fit(3)),
    Perturbation("noise", "Gaussian noise is added to the picture", _draw_noise, pixel=noise),
    Perturbation("shuffle", "the order of the frames is shuffled", _draw_shuffle, order=shuffle),
    Perturbation("swap", "the frames are replaced by frames of another video", _draw_swap, pixel=swap, needs_donor=True),
    Perturbation("zoom_in", "the picture is zoomed in", _draw_zoom_in, pixel=zoom_in),
    Perturbation("zoom_out", "the picture is zoomed out", _draw_zoom_out, pixel=zoom_out),
    Perturbation("mirror", "the picture is mirrored horizontally", _no_params, pixel=mirror),
    Perturbation("blur", "the picture is blurred", _no_params, pixel=_per_frame(lambda im: im.filter(ImageFilter.GaussianBlur(radius=2)))),
    Perturbation("saturation", "the colour saturation is increased", _no_params, pixel=_per_frame(lambda im: ImageEnhance.Color(im).enhance(2.0))),
    Perturbation("stutter_hold", "a few of the frames are held and repeated", _draw_stutter, order=stutter_hold),
    Perturbation("slow", "the video is slowed down", _no_params, order=slow, in_default_pool=False),
    Perturbation("fast", "the video is sped up", _no_params, order=fast, in_default_pool=False),
):
    register(_p)
