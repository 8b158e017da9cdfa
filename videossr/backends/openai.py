"""Any OpenAI-compatible chat endpoint: vLLM, SGLang, ``transformers serve``, hosted models.

Video parts are sent in one of two ways (``video_mode``):

* ``video`` (vLLM): one ``video_url`` part per video whose url is
  ``data:video/jpeg;base64,<jpeg 1>,<jpeg 2>,...`` with the per-request
  ``extra_body={"media_io_kwargs": {"video": {"num_frames": -1, "fps": SAMPLE_FPS}}}`` so vLLM
  keeps every frame and the true fps (without it vLLM assumes fps 1 and keeps 32 frames);
* ``frames`` (any server with image input): each frame as an ``image_url`` part preceded by a
  ``<t seconds>`` text (frame ``i`` at ``i / sample_fps``), since images carry no timestamps.

Requests run on ``concurrency`` threads, spread round-robin over the ``base_url`` list. Each
request has a ``timeout``; 429, 5xx, timeouts and connection errors are retried with exponential
backoff (``backoff_s * 2**attempt``, jittered, at most ``max_retries`` times); any other error,
or retries used up, makes that item an error (recorded, never ending the run). When a server
returns fewer than ``n`` choices (``transformers serve`` ignores ``n``), the rest are asked one
call at a time with derived seeds. The API key comes from ``OPENAI_API_KEY`` (``EMPTY`` when
unset, as vLLM accepts) and is never printed, logged or saved: it is not part of
``identity()``, ``render()`` shows none, and error texts are scrubbed of it.

    pip install -e ".[eval]"   # the openai client
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Iterator

from videossr.backends.base import Backend, Generation, Request, SamplingSettings, Video
from videossr.errors import UserError
from videossr.seeding import stable_seed
from videossr.prompt_parts import load_image, timestamp_text

VIDEO_MODES = ("video", "frames")
API_KEY_ENV = "OPENAI_API_KEY"
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


def _openai():
    try:
        import openai
    except ImportError:
        raise UserError('the openai backend needs the openai client: pip install -e ".[eval]"') from None
    return openai


def _jpeg_bytes(path: str, max_pixels: int | None) -> bytes:
    """The frame's JPEG as it is, or shrunk to ``max_pixels`` as the TRL route shrinks training frames."""
    with open(path, "rb") as fh:
        data = fh.read()
    if not max_pixels:
        return data
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        if image.width * image.height <= max_pixels:
            return data
    out = io.BytesIO()
    load_image(path, max_pixels).save(out, format="JPEG", quality=90)
    return out.getvalue()


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, model: str | None = None, base_url: str | list[str] | tuple[str, ...] = "http://localhost:8000/v1", *, video_mode: str = "video",
                 concurrency: int = 8, timeout_s: float = 300.0, max_retries: int = 5, backoff_s: float = 1.0, max_pixels: int | None = None,
                 api_key: str | None = None):
        openai = _openai()
        if video_mode not in VIDEO_MODES:
            raise UserError(f"unknown video mode {video_mode!r} (known: {', '.join(VIDEO_MODES)})")
        if concurrency < 1:
            raise UserError(f"concurrency must be >= 1, got {concurrency}")
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise UserError("give at least one --base-url")
        self._openai = openai
        self.base_urls = [u.rstrip("/") for u in urls]
        self.video_mode, self.concurrency, self.timeout_s = video_mode, concurrency, timeout_s
        self.max_retries, self.backoff_s, self.max_pixels = max_retries, backoff_s, max_pixels
        self._secret = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        self._clients = [openai.OpenAI(base_url=u, api_key=self._secret or "EMPTY", timeout=timeout_s, max_retries=0) for u in self.base_urls]
        self._next = 0
        self._lock = threading.Lock()
        self.model = model or self._first_model()

    def _first_model(self) -> str:
        try:
            models = self._clients[0].models.list()
            return models.data[0].id
        except Exception as exc:  # noqa: BLE001 - any failure here means: name the model
            raise UserError(f"could not list the models of {self.base_urls[0]} ({self._scrub(type(exc).__name__ + ': ' + str(exc))}); pass --model") from None

    def identity(self) -> dict:
        return {"backend": self.name, "model": self.model, "video_mode": self.video_mode, "max_pixels": self.max_pixels}

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    # -- request -> chat message ------------------------------------------------------------
    def _video_content(self, video: Video, *, preview: bool = False) -> list[dict]:
        if preview:
            encoded = [f"<{os.path.basename(f)}>" for f in video.frames]
        else:
            encoded = [base64.b64encode(_jpeg_bytes(f, self.max_pixels or video.max_pixels)).decode("ascii") for f in video.frames]
        if self.video_mode == "video":
            return [{"type": "video_url", "video_url": {"url": "data:video/jpeg;base64," + ",".join(encoded)}}]
        parts = []
        for i, data in enumerate(encoded):
            parts.append({"type": "text", "text": timestamp_text(i / video.sample_fps)})
            parts.append({"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + data}})
        return parts

    def payload(self, request: Request, *, preview: bool = False) -> dict:
        """The chat-completion arguments (``messages`` and ``extra_body``) for one request."""
        content: list[dict] = []
        for part in request.parts:
            content += [{"type": "text", "text": part}] if isinstance(part, str) else self._video_content(part, preview=preview)
        messages = ([{"role": "system", "content": request.system}] if request.system else []) + [{"role": "user", "content": content}]
        body = {"model": self.model, "messages": messages}
        videos = request.videos
        if self.video_mode == "video" and videos:
            body["extra_body"] = {"media_io_kwargs": {"video": {"num_frames": -1, "fps": videos[0].sample_fps}}}
        return body

    def render(self, request: Request) -> str:
        return json.dumps(self.payload(request, preview=True), indent=2, ensure_ascii=False)

    # -- calls ------------------------------------------------------------------------------
    def _client(self):
        with self._lock:
            client = self._clients[self._next % len(self._clients)]
            self._next += 1
        return client

    def _retryable(self, exc: Exception) -> bool:
        openai = self._openai
        if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
            return True
        return isinstance(exc, openai.APIStatusError) and exc.status_code in RETRY_STATUS

    def _call(self, body: dict, settings: SamplingSettings, n: int, seed: int) -> list[str]:
        jitter = random.Random(seed)
        options = {"max_tokens": settings.max_tokens, "temperature": settings.temperature, "n": n, "seed": seed}
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client().chat.completions.create(**body, **options)
                return [choice.message.content or "" for choice in response.choices][:n]
            except Exception as exc:  # noqa: BLE001 - classified below
                if attempt >= self.max_retries or not self._retryable(exc):
                    raise
                time.sleep(self.backoff_s * (2**attempt) * (0.5 + jitter.random()))
        raise AssertionError("unreachable")

    def _one(self, request: Request, settings: SamplingSettings) -> Generation:
        began = time.perf_counter()
        try:
            body = self.payload(request)
            base_seed = stable_seed(settings.seed, request.key()) % (2**31)
            texts = self._call(body, settings, settings.n, base_seed)
            extra = 1
            while len(texts) < settings.n:  # a server that ignores n: ask for the rest one by one
                texts += self._call(body, settings, 1, (base_seed + extra) % (2**31))
                extra += 1
            return Generation(texts=tuple(texts[: settings.n]), latency_s=time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001 - an item error, never the end of the run
            status = getattr(exc, "status_code", None)
            message = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "") + f": {exc}"
            return Generation(error=self._scrub(message)[:500], latency_s=time.perf_counter() - began)

    def generate_iter(self, requests: list[Request], settings: SamplingSettings) -> Iterator[tuple[int, Generation]]:
        pending = iter(enumerate(requests))
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai")
        try:
            running = {}
            for index, request in pending:  # keep at most 2x concurrency queued (bounded memory)
                running[pool.submit(self._one, request, settings)] = index
                if len(running) >= 2 * self.concurrency:
                    break
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    yield index, future.result()
                    nxt = next(pending, None)
                    if nxt is not None:
                        running[pool.submit(self._one, nxt[1], settings)] = nxt[0]
        finally:  # also on Ctrl-C or a caller that stops early: drop what has not started
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        for client in self._clients:
            client.close()
