"""``videossr preview``: PNG contact sheets of dataset samples, with the answer made visible.

Each sheet shows every frame the model sees (one row block per clip), the frames that carry the
answer outlined in red (the perturbed segment; the frames with drawn shapes), each frame's time
on the model's axis, and the question and answer as text. Jigsaw clips are labelled with the
original part they hold.
"""

from __future__ import annotations

import io
import json
import os
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from videossr import atomic
from videossr.export import load_rows, read_frame
from videossr.names import file_stem
from videossr.outputs import lock_for_reading, lock_output, lock_scope
from videossr.paths import confined, writing_into
from videossr.tasks import get_task

THUMB_HEIGHT = 72
PER_ROW = 12
PAD = 6
MARK = (230, 40, 40)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def _thumb(path: str, height: int) -> Image.Image:
    image = read_frame(path)
    return image.resize((max(1, round(image.width * height / image.height)), height), Image.BILINEAR)


def _pick(rows: list[dict], n: int) -> list[dict]:
    """Up to ``n`` rows, round-robin over task-variant pairs so every entry shows up."""
    groups: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["extra_info"]["sample_id"]):
        groups.setdefault(f"{r['extra_info']['task']}-{r['extra_info']['variant']}", []).append(r)
    picked: list[dict] = []
    while len(picked) < n and any(groups.values()):
        for key in list(groups):
            if groups[key] and len(picked) < n:
                picked.append(groups[key].pop(0))
    return picked


def _clip_labels(info: dict, params: dict, count: int) -> list[str]:
    if info["task"] == "jigsaw":
        return [f"Clip {k + 1}  (original part {params['shown_order'][k] + 1})" for k in range(count)]
    return [""] * count


def render_sheet(row: dict) -> Image.Image:
    """One contact sheet for one dataset row."""
    info, clips = row["extra_info"], row["videos"]
    params = json.loads(info["params"])
    marks = get_task(info["task"]).marks(params, [len(c["video"]) for c in clips])
    labels = _clip_labels(info, params, len(clips))
    small, body = _font(11), _font(14)
    thumbs = [[_thumb(p, THUMB_HEIGHT) for p in c["video"]] for c in clips]
    tw = thumbs[0][0].width
    per_row = PER_ROW if len(clips) == 1 else max(len(t) for t in thumbs)
    cell_w, cell_h = tw + PAD, THUMB_HEIGHT + 16
    width = max(per_row * cell_w + PAD, 900)
    text = [f"{info['task']} / {info['variant']}   sample {info['sample_id']}   video {info['video_id']}   fps {info['sample_fps']:.3f}"]
    text += textwrap.wrap("Q: " + info["question"], width=max(60, width // 8))
    text.append(f"Answer: {row['reward_model']['ground_truth']}")
    header = 18 * len(text) + PAD
    rows_per_clip = [-(-len(t) // per_row) for t in thumbs]
    label_h = 16 if any(labels) else 0
    height = header + sum(r * cell_h + label_h for r in rows_per_clip) + PAD
    sheet = Image.new("RGB", (width, height), (250, 250, 250))
    pen = ImageDraw.Draw(sheet)
    for i, line in enumerate(text):
        pen.text((PAD, PAD + 18 * i), line, fill=(180, 0, 0) if line.startswith("Answer") else (20, 20, 20), font=body)
    y = header
    for clip, clip_thumbs, clip_marks, label in zip(clips, thumbs, marks, labels):
        if label:
            pen.text((PAD, y), label, fill=(0, 0, 140), font=small)
            y += label_h
        for j, (thumb, marked) in enumerate(zip(clip_thumbs, clip_marks)):
            x, yy = PAD + (j % per_row) * cell_w, y + (j // per_row) * cell_h
            sheet.paste(thumb, (x, yy))
            if marked:
                pen.rectangle((x - 2, yy - 2, x + thumb.width + 1, yy + thumb.height + 1), outline=MARK, width=3)
            pen.text((x, yy + THUMB_HEIGHT + 1), f"{j / clip['sample_fps']:.1f}s", fill=(90, 90, 90), font=small)
        y += -(-len(clip_thumbs) // per_row) * cell_h
    return sheet


@lock_scope()
def preview(dataset: str | os.PathLike, out: str | os.PathLike, *, n: int = 8) -> list[Path]:
    """Write ``n`` contact sheets (PNG) to ``out``, one ``<sample_id>.png`` each (an id that is not a
    safe file name is sanitised and hashed, :func:`videossr.names.file_stem`); returns their paths."""
    out = Path(out)
    lock_for_reading(dataset)
    sheets = []  # rendered before the output is created, so a refused row leaves no folder behind
    for row in _pick(load_rows(dataset), n):
        data = io.BytesIO()
        render_sheet(row).save(data, format="PNG")
        sheets.append((confined(out, f"{file_stem(row['extra_info']['sample_id'])}.png", what="preview file"), data.getvalue()))
    lock_output(out, command="preview")
    written = []
    for path, png in sheets:
        with writing_into(out):
            written.append(atomic.write_bytes(path, png))
    return written
