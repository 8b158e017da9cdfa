"""Local generation with a Hugging Face checkpoint (Qwen3-VL / Qwen2.5-VL class) through the Auto classes.

Each :class:`~videossr.backends.base.Video` part goes in as one video (its frame list with
``sample_fps``) through qwen-vl-utils and the checkpoint's processor with
``do_sample_frames=False``, so every frame is kept and the processor writes the right
``<t seconds>`` timestamps (frame ``i`` at ``i / sample_fps``), exactly as verl's rollout does.
Requests are generated in batches of ``batch_size`` with left padding; greedy unless
``temperature > 0`` (then seeded per batch, without touching global random state). A batch that
fails is retried one request at a time, so one bad item is an item error, never a lost batch.

Pixel budget per frame: ``max_pixels`` / ``min_pixels`` given here override each video's own
(a build dataset carries its training budget; VIUBench carries 512x512).

    pip install -e ".[eval]"   # torch, transformers, qwen-vl-utils
"""

from __future__ import annotations

import re
import time
from typing import Iterator

from videossr.backends.base import Backend, Generation, Request, SamplingSettings, Video
from videossr.errors import UserError
from videossr.qwen_inputs import DEFAULT_MIN_PIXELS, chat_messages, model_inputs, video_part  # noqa: F401 - DEFAULT_MIN_PIXELS re-exported
from videossr.seeding import stable_seed

DTYPES = ("auto", "float32", "bfloat16", "float16")
_INSTALL_HINT = 'the transformers backend needs torch, transformers and qwen-vl-utils: pip install -e ".[eval]"'


def _imports():
    try:
        import torch
        import transformers
        from qwen_vl_utils import process_vision_info
    except ImportError as exc:
        raise UserError(f"{_INSTALL_HINT} ({exc})") from None
    return torch, transformers, process_vision_info


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, model: str, *, batch_size: int = 8, dtype: str = "auto", device: str = "auto", max_pixels: int | None = None,
                 min_pixels: int | None = None):
        torch, transformers, self._process_vision_info = _imports()
        if batch_size < 1:
            raise UserError(f"batch_size must be >= 1, got {batch_size}")
        if dtype not in DTYPES:
            raise UserError(f"unknown dtype {dtype!r} (known: {', '.join(DTYPES)})")
        self._torch = torch
        self.model_path = str(model)
        self.batch_size, self.dtype, self.max_pixels, self.min_pixels = batch_size, dtype, max_pixels, min_pixels
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        try:
            self.processor = transformers.AutoProcessor.from_pretrained(self.model_path)
            torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
            self.model = transformers.AutoModelForImageTextToText.from_pretrained(self.model_path, dtype=torch_dtype).to(self.device).eval()
        except OSError as exc:
            raise UserError(f"cannot load model {self.model_path!r}: {exc}") from None
        self.processor.tokenizer.padding_side = "left"
        image_processor = getattr(self.processor, "image_processor", None)
        self.patch_size = int(getattr(image_processor, "patch_size", 14) or 14)

    def identity(self) -> dict:
        return {"backend": self.name, "model": self.model_path, "dtype": self.dtype, "max_pixels": self.max_pixels, "min_pixels": self.min_pixels}

    # -- request -> model inputs ------------------------------------------------------------
    def _video_part(self, video: Video) -> dict:
        return video_part(video, self.max_pixels, self.min_pixels)

    def messages(self, request: Request) -> list[dict]:
        return chat_messages(request, self.max_pixels, self.min_pixels)

    def _inputs(self, requests: list[Request]):
        """Model inputs of a batch, built by :func:`videossr.qwen_inputs.model_inputs` (shared with TRL training)."""
        return model_inputs(self.processor, [self.messages(r) for r in requests], self._process_vision_info).to(self.device)

    # -- generation -------------------------------------------------------------------------
    def _generate_batch(self, requests: list[Request], settings: SamplingSettings) -> list[tuple[str, ...]]:
        torch = self._torch
        inputs = self._inputs(requests)
        options = {"max_new_tokens": settings.max_tokens, "num_return_sequences": settings.n, "do_sample": not settings.greedy}
        if not settings.greedy:
            options["temperature"] = settings.temperature
        else:
            options.update(temperature=None, top_p=None, top_k=None)
        devices = [torch.device(self.device).index or 0] if self.device.startswith("cuda") else []
        with torch.inference_mode(), torch.random.fork_rng(devices=devices):
            torch.manual_seed(stable_seed(settings.seed, *(r.key() for r in requests)) % (2**63))
            output = self.model.generate(**inputs, **options)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        texts = self.processor.batch_decode(new_tokens, skip_special_tokens=True)
        return [tuple(texts[i * settings.n:(i + 1) * settings.n]) for i in range(len(requests))]

    def generate_iter(self, requests: list[Request], settings: SamplingSettings) -> Iterator[tuple[int, Generation]]:
        for start in range(0, len(requests), self.batch_size):
            chunk = requests[start:start + self.batch_size]
            began = time.perf_counter()
            try:
                outputs = self._generate_batch(chunk, settings)
            except Exception as exc:  # noqa: BLE001 - isolate the failing item(s) below
                if len(chunk) == 1:
                    yield start, Generation(error=f"{type(exc).__name__}: {exc}", latency_s=time.perf_counter() - began)
                    continue
                for offset, request in enumerate(chunk):  # one at a time: only the bad ones fail
                    yield from ((start + offset, g) for _, g in self.generate_iter([request], settings))
                continue
            latency = time.perf_counter() - began
            for offset, texts in enumerate(outputs):
                yield start + offset, Generation(texts=texts, latency_s=latency)

    def render(self, request: Request) -> str:
        """The prompt exactly as the model sees it (video placeholder runs collapsed)."""
        inputs = self._inputs([request])
        text = self.processor.tokenizer.decode(inputs["input_ids"][0], skip_special_tokens=False)
        return re.sub(r"((<\|(?:video|image)_pad\|>))(?:\1)+", lambda m: f"{m.group(1)}x{len(m.group(0)) // len(m.group(1))}", text)

    def close(self) -> None:
        self.model = None
        if self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()
