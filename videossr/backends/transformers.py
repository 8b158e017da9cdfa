"""Local generation with a Hugging Face checkpoint (Qwen3-VL / Qwen2.5-VL class) through the Auto classes.

Each :class:`~videossr.backends.base.Video` part goes in as one video (its frame list with
``sample_fps``) through qwen-vl-utils and the checkpoint's processor with
``do_sample_frames=False``, so every frame is kept and the processor writes the right
``<t seconds>`` timestamps (frame ``i`` at ``i / sample_fps``), exactly as verl's rollout does.
Requests are generated in batches of ``batch_size`` with left padding; greedy unless
``temperature > 0``. Decoding settings are passed explicitly (``repetition_penalty`` 1.0 and
``no_repeat_ngram_size`` 0 unless asked), so the checkpoint's generation_config never changes
them: a Qwen checkpoint's ``top_k: 1`` / ``do_sample: false`` cannot turn sampling greedy.
Sampling draws each output's tokens with its own generator, seeded from the run seed, the item
id and the output index (:class:`RowSampler`, after temperature, top-k and top-p), so an item's
samples are the same whatever ``batch_size`` and whichever items share its batch; global random
state is never touched. A batch that fails is retried one request at a time, so one bad item is
an item error, never a lost batch. ``chat_template_kwargs`` (e.g. ``{"enable_thinking":
false}``) go to the chat template.

Identity (the response cache and resume key): the checkpoint's content
(:func:`videossr.backends.identity.model_identity`: config, processor and tokenizer files, and
the weights' sizes, safetensors headers and sampled blocks), so a model retrained into the same
folder is asked again.

Pixel budget per frame: ``max_pixels`` / ``min_pixels`` given here override each video's own
(a build dataset carries its training budget; VIUBench carries 512x512).

    pip install -e ".[eval]"   # torch, transformers, qwen-vl-utils
"""

from __future__ import annotations

import re
import time
from typing import Iterator

from videossr.backends.base import Backend, Generation, Request, SamplingSettings, Video, count_option, item_seed
from videossr.backends.identity import model_identity
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


class RowSampler:
    """A logits processor that samples each row with its own ``torch.Generator`` and returns a
    one-hot row (the drawn token finite, every other ``-inf``), so the generate loop can only
    take that token. ``seeds[r]`` seeds row ``r`` (request-major: request ``r // n``, output ``r % n``)."""

    def __init__(self, torch, seeds: list[int], temperature: float, top_k: int | None, top_p: float):
        self._torch, self.seeds, self.temperature, self.top_k, self.top_p = torch, seeds, temperature, top_k, top_p
        self._generators = None

    def __call__(self, input_ids, scores):
        torch = self._torch
        if self._generators is None:
            self._generators = [torch.Generator(device=scores.device).manual_seed(seed) for seed in self.seeds]
        logits = scores.float() / self.temperature
        if self.top_k is not None and self.top_k < logits.shape[-1]:
            kth = torch.topk(logits, self.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.top_p < 1.0:
            ordered, order = torch.sort(logits, descending=False, dim=-1)
            drop = ordered.softmax(dim=-1).cumsum(dim=-1) <= (1.0 - self.top_p)
            drop[:, -1] = False  # always keep the most likely token
            logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
        probs = logits.softmax(dim=-1)
        chosen = torch.cat([torch.multinomial(probs[row], 1, generator=self._generators[row]) for row in range(probs.shape[0])])
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, chosen.view(-1, 1), 0.0)


def _check_device(torch, device: str) -> str:
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise UserError(f"unknown device {device!r} (use auto, cpu, cuda or cuda:N)") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device {device}: no CUDA device is available on this machine (use --device cpu)")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise UserError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, model: str, *, batch_size: int = 8, dtype: str = "auto", device: str = "auto", max_pixels: int | None = None,
                 min_pixels: int | None = None, chat_template_kwargs: dict | None = None):
        torch, transformers, self._process_vision_info = _imports()
        count_option("batch_size", batch_size, 1)
        for name, value in (("max_pixels", max_pixels), ("min_pixels", min_pixels)):
            if value is not None:
                count_option(name, value, 1)
        if dtype not in DTYPES:
            raise UserError(f"unknown dtype {dtype!r} (known: {', '.join(DTYPES)})")
        if chat_template_kwargs is not None and not isinstance(chat_template_kwargs, dict):
            raise UserError(f"chat_template_kwargs must be a JSON object, got {chat_template_kwargs!r}")
        self._torch = torch
        self.model_path = str(model)
        self.batch_size, self.dtype, self.max_pixels, self.min_pixels = batch_size, dtype, max_pixels, min_pixels
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else _check_device(torch, str(device))
        try:
            self.processor = transformers.AutoProcessor.from_pretrained(self.model_path)
            torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
            self.model = transformers.AutoModelForImageTextToText.from_pretrained(self.model_path, dtype=torch_dtype).to(self.device).eval()
        except OSError as exc:
            raise UserError(f"cannot load model {self.model_path!r}: {exc}") from None
        self.processor.tokenizer.padding_side = "left"
        image_processor = getattr(self.processor, "image_processor", None)
        self.patch_size = int(getattr(image_processor, "patch_size", 14) or 14)
        self._identity = {"backend": self.name, **model_identity(self.model_path, getattr(self.model.config, "_commit_hash", None)),
                          "dtype": self.dtype, "max_pixels": self.max_pixels, "min_pixels": self.min_pixels,
                          **({"chat_template_kwargs": self.chat_template_kwargs} if self.chat_template_kwargs else {})}

    def identity(self) -> dict:
        return dict(self._identity)

    # -- request -> model inputs ------------------------------------------------------------
    def _video_part(self, video: Video) -> dict:
        return video_part(video, self.max_pixels, self.min_pixels)

    def messages(self, request: Request) -> list[dict]:
        return chat_messages(request, self.max_pixels, self.min_pixels)

    def prompt(self, request: Request) -> str:
        """The chat-template text of one request (each video one placeholder; no frames decoded)."""
        return self.processor.apply_chat_template(self.messages(request), tokenize=False, add_generation_prompt=True, **self.chat_template_kwargs)

    def _inputs(self, requests: list[Request]):
        """Model inputs of a batch, built by :func:`videossr.qwen_inputs.model_inputs` (shared with TRL training)."""
        return model_inputs(self.processor, [self.messages(r) for r in requests], self._process_vision_info,
                            self.chat_template_kwargs).to(self.device)

    # -- generation -------------------------------------------------------------------------
    def _generate_batch(self, requests: list[Request], settings: SamplingSettings) -> list[tuple[str, ...]]:
        torch = self._torch
        inputs = self._inputs(requests)
        options = {"max_new_tokens": settings.max_tokens, "num_return_sequences": settings.n, "num_beams": 1,
                   "repetition_penalty": settings.effective_repetition_penalty, "no_repeat_ngram_size": 0}
        if settings.greedy:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:  # our sampler draws; the library's own warpers are set neutral (they would keep the one drawn token anyway)
            seeds = [stable_seed(item_seed(settings, r), j) % (2**63) for r in requests for j in range(settings.n)]
            options.update(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, typical_p=1.0,
                           logits_processor=[RowSampler(torch, seeds, settings.temperature, settings.top_k, settings.effective_top_p)])
        devices = [torch.device(self.device).index or 0] if self.device.startswith("cuda") else []
        with torch.inference_mode(), torch.random.fork_rng(devices=devices):
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
