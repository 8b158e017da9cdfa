"""How a prompt's videos reach a model, shared by the eval backends, VIUBench and the TRL route.

A user message holds one ``<video>`` marker per video entry (the verl row layout);
:func:`interleave` puts the videos at their markers. Frames sent as images carry their time as
Qwen3-VL's ``<t seconds>`` text (:func:`timestamp_text`) and are shrunk to a pixel budget
(:func:`load_image`).
"""

from __future__ import annotations

import math
from typing import Sequence

VIDEO_TOKEN = "<video>"


def interleave(text: str, videos: Sequence) -> tuple:
    """``text`` split at each ``<video>``, with ``videos`` put there in order; empty text pieces dropped.
    ValueError when the number of markers and of videos differ."""
    pieces = text.split(VIDEO_TOKEN)
    if len(pieces) - 1 != len(videos):
        raise ValueError(f"user text has {len(pieces) - 1} {VIDEO_TOKEN} markers for {len(videos)} videos")
    parts = []
    for k, piece in enumerate(pieces):
        if piece:
            parts.append(piece)
        if k < len(videos):
            parts.append(videos[k])
    return tuple(parts)


def timestamp_text(seconds: float) -> str:
    """Qwen3-VL's timestamp form, ``<1.5 seconds>``."""
    return f"<{seconds:.1f} seconds>"


def load_image(path: str, max_pixels: int):
    """One frame as RGB PIL image, shrunk (aspect kept) to at most ``max_pixels``."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
    area = image.width * image.height
    if area > max_pixels:
        scale = math.sqrt(max_pixels / area)
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))), Image.BICUBIC)
    return image
