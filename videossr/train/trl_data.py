"""verl rows as TRL GRPO examples: each clip as one Qwen3-VL video (default), or its frames as images with their timestamps as text.

Video tokens (:func:`trl_video_dataset`): the prompt holds each clip as one video part, as
`videossr eval` sends it; :mod:`videossr.train.trl_video` carries the video through TRL's passes.

Frames as images (:func:`trl_dataset`, ``--video-as images``): plain TRL 1.16 feeds only images
into the training forward pass, so a row's ``<video>`` becomes, for each kept frame *i*, the text
``<t seconds>`` (``t = i / sample_fps``, one decimal: the time axis of every answer) followed by
the frame as an image. A jigsaw row's clips each restart at 0.0 s, as separate videos do in verl.

The dataset is a ``datasets.Dataset`` of plain columns (frame paths, fps, texts) with an on-the-fly
transform that renders ``prompt`` (structured chat messages) and ``images`` (PIL images, resized
to the row's ``max_pixels``) when TRL reads an example: mixed content parts never go through Arrow,
which would add ``None`` keys to them (``'image' in part`` would then misfire in Qwen's template),
and frames are only decoded for the batch being trained.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from videossr.prompt_parts import interleave, load_image, timestamp_text

COLUMNS = ("sample_id", "data_source", "ground_truth", "system", "user", "videos")


def keep_frame_indices(count: int, keep: int | None) -> list[int]:
    """``keep`` frame indices of ``count``, evenly spaced from the first (all when ``keep`` is None or >= count)."""
    if keep is None or keep >= count:
        return list(range(count))
    return sorted({round(k * (count - 1) / max(keep - 1, 1)) for k in range(keep)}) if keep > 1 else [0]


def video_parts(video: dict, keep: int | None) -> list[dict]:
    """Content parts for one video entry: ``<t seconds>`` text + image placeholder per kept frame."""
    frames, fps = video["video"], float(video["sample_fps"])
    parts = []
    for i in keep_frame_indices(len(frames), keep):
        parts += [{"type": "text", "text": timestamp_text(i / fps)}, {"type": "image"}]
    return parts


def user_content(text: str, videos: list[dict], keep: int | None) -> list[dict]:
    """The user message with each ``<video>`` replaced by its frames (as many markers as videos)."""
    content = []
    for part in interleave(text, videos):
        content += [{"type": "text", "text": part}] if isinstance(part, str) else video_parts(part, keep)
    return content


def messages(system: str, user: str, videos: list[dict], keep: int | None) -> list[dict]:
    out = [{"role": "system", "content": [{"type": "text", "text": system}]}] if system else []
    return out + [{"role": "user", "content": user_content(user, videos, keep)}]


def plain_rows(parquet: str | os.PathLike) -> dict[str, list]:
    """The parquet's rows as the plain columns of :data:`COLUMNS` (videos JSON-encoded), every frame
    path confined to the dataset folder (:func:`videossr.export.confine_frames`)."""
    import pyarrow.parquet as pq

    from videossr.export import confine_frames, dataset_root

    table = pq.read_table(Path(parquet), columns=["data_source", "prompt", "videos", "reward_model", "extra_info"])
    cols = {name: [] for name in COLUMNS}
    for row in confine_frames(table.to_pylist(), dataset_root(parquet), str(parquet)):
        for name, value in plain_row(row).items():
            cols[name].append(value)
    return cols


def plain_row(row: dict) -> dict:
    """One verl row as the plain values of :data:`COLUMNS` (videos JSON-encoded)."""
    roles = {m["role"]: m["content"] for m in row["prompt"]}
    return {"sample_id": row["extra_info"].get("sample_id") or str(row["extra_info"].get("index")), "data_source": row["data_source"],
            "ground_truth": row["reward_model"]["ground_truth"], "system": roles.get("system", ""), "user": roles["user"],
            "videos": json.dumps(row["videos"])}


def example_maker(video_as: str, frames_per_video: int | None = None):
    """``row -> TRL example`` for one verl row, as the route's dataset renders it (the live dataset's converter)."""
    render = RenderVideoExamples() if video_as == "video" else RenderExamples(frames_per_video)

    def make(row: dict) -> dict:
        batch = render({name: [value] for name, value in plain_row(row).items()})
        return {name: values[0] for name, values in batch.items()}

    return make


class RenderExamples:
    """The ``datasets`` transform: a batch of plain rows -> ``prompt`` + ``images`` (+ the reward columns)."""

    def __init__(self, frames_per_video: int | None = None):
        self.frames_per_video = frames_per_video

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        out = {"prompt": [], "images": [], "data_source": batch["data_source"], "ground_truth": batch["ground_truth"],
               "sample_id": batch["sample_id"]}
        rendered: dict[tuple, tuple] = {}  # TRL asks for each prompt once per generation: decode its frames once
        for key in zip(batch["system"], batch["user"], batch["videos"]):
            if key not in rendered:
                rendered[key] = self._render(*key)
            out["prompt"].append(rendered[key][0])
            out["images"].append(rendered[key][1])
        return out

    def _render(self, system: str, user: str, videos_json: str) -> tuple[list[dict], list]:
        videos, keep = json.loads(videos_json), self.frames_per_video
        # in the order of user_content's image placeholders
        images = [load_image(v["video"][i], int(v["max_pixels"])) for v in videos for i in keep_frame_indices(len(v["video"]), keep)]
        return messages(system, user, videos, keep), images


def trl_dataset(parquet: str | os.PathLike, frames_per_video: int | None = None):
    """A ``datasets.Dataset`` TRL's GRPOTrainer reads: ``prompt``, ``images``, ``data_source``, ``ground_truth``."""
    from datasets import Dataset

    return Dataset.from_dict(plain_rows(parquet)).with_transform(RenderExamples(frames_per_video))


# -- video tokens (the default of `videossr train trl`) ------------------------------------------

def row_request(system: str, user: str, videos_json: str):
    """One row as the :class:`~videossr.backends.base.Request` `videossr eval` builds for it (videos at their markers)."""
    from videossr.backends.base import Request, Video

    videos = [Video(frames=tuple(v["video"]), sample_fps=float(v["sample_fps"]), max_pixels=v.get("max_pixels"), min_pixels=v.get("min_pixels"))
              for v in json.loads(videos_json)]
    return Request(system=system, parts=interleave(user, videos))


class RenderVideoExamples:
    """The ``datasets`` transform of the video route: ``prompt`` holds each clip as one video part
    (frame paths, ``sample_fps``, pixel budgets), exactly the messages `videossr eval` sends;
    frames are decoded by the trainer (:mod:`videossr.train.trl_video`), once per prompt and step."""

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        from videossr.qwen_inputs import chat_messages

        prompts = [chat_messages(row_request(*key)) for key in zip(batch["system"], batch["user"], batch["videos"])]
        return {"prompt": prompts, "data_source": batch["data_source"], "ground_truth": batch["ground_truth"], "sample_id": batch["sample_id"]}


def trl_video_dataset(parquet: str | os.PathLike):
    """A ``datasets.Dataset`` for :class:`~videossr.train.trl_video.VideoGRPOTrainer`: ``prompt`` (with video parts) + reward columns."""
    from datasets import Dataset

    return Dataset.from_dict(plain_rows(parquet)).with_transform(RenderVideoExamples())
