"""Qwen3-VL / Qwen2.5-VL model inputs for a :class:`~videossr.backends.base.Request`, one function for everyone.

`videossr eval --backend transformers` and `videossr train trl` (video tokens) both turn a request
into model inputs here, so training sees exactly what evaluation sees (and what verl's rollout
sees): each :class:`~videossr.backends.base.Video` part goes in as one video (its frame list
with ``sample_fps``) through qwen-vl-utils and the checkpoint's processor with
``do_sample_frames=False``, so every frame is kept and the processor writes the ``<t seconds>``
timestamps (frame ``i`` at ``i / sample_fps``, averaged over each temporal patch of 2 frames).

Pixel budget per frame: ``max_pixels`` / ``min_pixels`` given here override each video's own;
with a maximum and no minimum the paper's evaluation minimum (128x128) applies.
"""

from __future__ import annotations

from videossr.backends.base import Request, Video

DEFAULT_MIN_PIXELS = 128 * 128  # the paper's evaluation min_pixels, used when a max is set and no min


def video_part(video: Video, max_pixels: int | None = None, min_pixels: int | None = None) -> dict:
    """The qwen-vl-utils content part of one video (frame paths, ``sample_fps``, pixel budgets)."""
    part = {"type": "video", "video": list(video.frames), "sample_fps": video.sample_fps}
    max_pixels = max_pixels or video.max_pixels
    min_pixels = min_pixels or video.min_pixels or (DEFAULT_MIN_PIXELS if max_pixels else None)
    if max_pixels:
        part["max_pixels"] = int(max_pixels)
    if min_pixels:
        part["min_pixels"] = int(min(min_pixels, max_pixels or min_pixels))
    return part


def chat_messages(request: Request, max_pixels: int | None = None, min_pixels: int | None = None) -> list[dict]:
    """System + user chat messages with text parts and video parts in the request's order."""
    content = [{"type": "text", "text": p} if isinstance(p, str) else video_part(p, max_pixels, min_pixels) for p in request.parts]
    messages = [{"role": "system", "content": [{"type": "text", "text": request.system}]}] if request.system else []
    return messages + [{"role": "user", "content": content}]


def patch_size(processor) -> int:
    """The vision patch size of a processor (16 for Qwen3-VL, 14 for Qwen2.5-VL)."""
    return int(getattr(getattr(processor, "image_processor", None), "patch_size", 14) or 14)


def model_inputs(processor, conversations: list[list[dict]], process_vision_info=None, chat_template_kwargs: dict | None = None):
    """Processor outputs (``input_ids``, ``attention_mask``, ``pixel_values_videos``, ``video_grid_thw``,
    ``mm_token_type_ids`` ...) for a batch of chat conversations, left-padded as the processor's
    tokenizer is set, with the generation prompt appended (``chat_template_kwargs``, e.g.
    ``enable_thinking``, go to the chat template)."""
    if process_vision_info is None:
        from qwen_vl_utils import process_vision_info
    texts, videos, metadata = [], [], []
    for messages in conversations:
        texts.append(processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **(chat_template_kwargs or {})))
        _, video_inputs, _ = process_vision_info(messages, image_patch_size=patch_size(processor), return_video_kwargs=True,
                                                 return_video_metadata=True)
        for tensor, meta in video_inputs or []:
            videos.append(tensor)
            metadata.append(meta)
    kwargs = {"videos": videos, "video_metadata": metadata, "do_sample_frames": False} if videos else {}
    return processor(text=texts, padding=True, return_tensors="pt", **kwargs)
