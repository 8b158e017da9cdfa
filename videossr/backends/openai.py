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
or retries used up, makes that item an error (recorded, never ending the run), with a hint for
known causes (HTTP 422 in ``video`` mode: the server does not take vLLM's video settings, use
``--video-mode frames``). Two faults stop the run at once instead (:class:`BackendUnreachable`,
finished items kept): a server that cannot be reached when the backend is built (it asks
``/v1/models`` of every URL), and :data:`FAIL_FAST_AFTER` requests in a row failing to connect
(at the start or when a server dies mid-run: no hours of retries per item).

Sampling: ``temperature``, ``top_p``, ``seed`` (per item: :func:`~videossr.backends.base.item_seed`)
and ``max_tokens`` always; a vLLM server (``owned_by: vllm`` in ``/v1/models``) also gets
``top_k`` (-1: off) and ``repetition_penalty`` (1.0), so the checkpoint's generation_config
defaults vLLM would apply cannot narrow the sampling; any other server gets a
``generation_config`` JSON (``do_sample``, temperature, top_p, top_k, repetition_penalty, which
``transformers serve`` uses instead of the checkpoint's: its ``do_sample: false`` cannot make
temperature 1.0 greedy), and ``top_k`` / ``repetition_penalty`` when asked. A field a server
refuses by name is dropped when the rest carries it. ``chat_template_kwargs`` (e.g.
``{"enable_thinking": false}``) go in every request.

Identity (cache and resume): the model name, the URLs and the server's own description of the
model (``id``, ``root``, ``owned_by`` from ``/v1/models``). When a server
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

from videossr.backends.base import Backend, BackendUnreachable, Generation, Request, SamplingSettings, Video, count_option, item_seed, number_option
from videossr.errors import UserError
from videossr.prompt_parts import load_image, timestamp_text

VIDEO_MODES = ("video", "frames")
API_KEY_ENV = "OPENAI_API_KEY"
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
FAIL_FAST_AFTER = 3  # this many finished requests in a row failing to connect stop the run
PROBE_TIMEOUT_S = 30.0
_OPTIONAL_FIELDS = ("top_k", "repetition_penalty", "generation_config")


def http_hint(status: int | None, message: str, video_mode: str) -> str:
    """A hint for a known HTTP error ('' when none)."""
    if status == 422 and video_mode == "video":
        return "this server does not take vLLM's video settings (video_url + media_io_kwargs): use --video-mode frames"
    if status in (401, 403):
        return f"the server refused the key: set {API_KEY_ENV}"
    if status == 404:
        return "check --base-url (it usually ends in /v1) and --model (the server's model name)"
    if status == 413:
        return "the request is too large for the server: lower --max-pixels, or use fewer frames"
    if status == 400 and "context" in message.lower() and "length" in message.lower():
        return "the prompt is longer than the model's context: lower --max-pixels, or use fewer frames"
    return ""


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
                 api_key: str | None = None, chat_template_kwargs: dict | None = None):
        openai = _openai()
        if video_mode not in VIDEO_MODES:
            raise UserError(f"unknown video mode {video_mode!r} (known: {', '.join(VIDEO_MODES)})")
        concurrency = count_option("concurrency", concurrency, 1)
        max_retries = count_option("max_retries (--retries)", max_retries, 0)
        timeout_s = number_option("timeout_s (--timeout)", timeout_s, minimum=0, exclusive=True)
        backoff_s = number_option("backoff_s", backoff_s, minimum=0)
        if max_pixels is not None:
            max_pixels = count_option("max_pixels", max_pixels, 1)
        if chat_template_kwargs is not None and not isinstance(chat_template_kwargs, dict):
            raise UserError(f"chat_template_kwargs must be a JSON object, got {chat_template_kwargs!r}")
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise UserError("give at least one --base-url")
        self._openai = openai
        self.base_urls = [u.rstrip("/") for u in urls]
        self.video_mode, self.concurrency, self.timeout_s = video_mode, concurrency, timeout_s
        self.max_retries, self.backoff_s, self.max_pixels = max_retries, backoff_s, max_pixels
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self._secret = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        self._clients = [openai.OpenAI(base_url=u, api_key=self._secret or "EMPTY", timeout=timeout_s, max_retries=0) for u in self.base_urls]
        self._next = 0
        self._lock = threading.Lock()
        self._abort = threading.Event()
        self._dropped: set[str] = set()  # optional fields this server refused by name
        listed = [self._models(i) for i in range(len(self._clients))][0]
        if model is None:
            if not listed:
                raise UserError(f"{self.base_urls[0]} lists no models; pass --model")
            model = listed[0]["id"]
        self.model = model
        served = next((m for m in listed if m.get("id") == model), None)
        self.served = {k: served.get(k) for k in ("id", "root", "owned_by") if served.get(k) is not None} if served else None
        self.dialect = "vllm" if served and served.get("owned_by") == "vllm" else "generic"

    def _models(self, index: int) -> list[dict]:
        """``/v1/models`` of one server ([] when it has none); an unreachable server stops here."""
        openai = self._openai
        try:
            page = self._clients[index].with_options(timeout=min(self.timeout_s, PROBE_TIMEOUT_S)).models.list()
            return [m.model_dump() if hasattr(m, "model_dump") else dict(m) for m in page.data]
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise BackendUnreachable(f"cannot reach {self.base_urls[index]} ({self._scrub(type(exc).__name__ + ': ' + str(exc))}); is the server up?") from None
        except Exception:  # noqa: BLE001 - a server without /v1/models: name the model with --model
            return []

    def identity(self) -> dict:
        out = {"backend": self.name, "model": self.model, "base_urls": sorted(self.base_urls), "served": self.served,
               "video_mode": self.video_mode, "max_pixels": self.max_pixels}
        if self.chat_template_kwargs:
            out["chat_template_kwargs"] = self.chat_template_kwargs
        return out

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

    def sampling_fields(self, settings: SamplingSettings, n: int, seed: int) -> dict:
        """The sampling arguments of one chat-completion call (see the module docstring)."""
        options = {"max_tokens": settings.max_tokens, "temperature": settings.temperature, "top_p": settings.effective_top_p, "n": n, "seed": seed}
        extra: dict = {}
        if self.dialect == "vllm":
            extra["top_k"] = settings.top_k if settings.top_k is not None else -1
            extra["repetition_penalty"] = settings.effective_repetition_penalty
        else:
            if settings.top_k is not None:
                extra["top_k"] = settings.top_k
            if settings.repetition_penalty is not None:
                extra["repetition_penalty"] = settings.repetition_penalty
            extra["generation_config"] = json.dumps({"do_sample": not settings.greedy, "temperature": settings.temperature if not settings.greedy else None,
                                                     "top_p": settings.effective_top_p, "top_k": settings.top_k or 0, "num_beams": 1,
                                                     "repetition_penalty": settings.effective_repetition_penalty, "max_new_tokens": settings.max_tokens})
        if self.chat_template_kwargs:
            extra["chat_template_kwargs"] = self.chat_template_kwargs
        for name in self._dropped:
            extra.pop(name, None)
        return {**options, **({"extra_body": extra} if extra else {})}

    def _drop_refused(self, exc: Exception, sent: dict) -> bool:
        """After a 400/422 naming optional fields we sent: drop those the rest of the request carries; True to try again."""
        status = getattr(exc, "status_code", None)
        if status not in (400, 422):
            return False
        refused = {name for name in _OPTIONAL_FIELDS if name in str(exc) and name in sent}
        if "generation_config" in refused and ({"top_k", "repetition_penalty"} & set(sent)):
            refused.discard("generation_config")  # it is our only carrier left for top_k / repetition_penalty
        if refused - {"generation_config"} and "generation_config" not in sent:
            return False  # a setting the user asked for and nothing else carries: an item error
        if not refused:
            return False
        with self._lock:
            self._dropped |= refused
        return True

    def _call(self, body: dict, settings: SamplingSettings, n: int, seed: int) -> list[str]:
        jitter = random.Random(seed)
        attempt = 0
        while True:
            if self._abort.is_set():
                raise BackendUnreachable("the run was stopped")
            fields = self.sampling_fields(settings, n, seed)
            extra = {**body.get("extra_body", {}), **fields.pop("extra_body", {})}
            try:
                response = self._client().chat.completions.create(**{**body, "extra_body": extra}, **fields)
                return [choice.message.content or "" for choice in response.choices][:n]
            except Exception as exc:  # noqa: BLE001 - classified below
                if self._drop_refused(exc, extra):
                    continue
                if attempt >= self.max_retries or not self._retryable(exc):
                    raise
                self._abort.wait(self.backoff_s * (2**attempt) * (0.5 + jitter.random()))
                attempt += 1

    def _one(self, request: Request, settings: SamplingSettings) -> tuple[Generation, bool]:
        """The item's generation, and whether it failed because no server could be connected to."""
        began = time.perf_counter()
        try:
            body = self.payload(request)
            base_seed = item_seed(settings, request) % (2**31)
            texts = self._call(body, settings, settings.n, base_seed)
            extra = 1
            while len(texts) < settings.n:  # a server that ignores n: ask for the rest one by one
                texts += self._call(body, settings, 1, (base_seed + extra) % (2**31))
                extra += 1
            return Generation(texts=tuple(texts[: settings.n]), latency_s=time.perf_counter() - began), False
        except Exception as exc:  # noqa: BLE001 - an item error, never the end of the run
            status = getattr(exc, "status_code", None)
            message = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "") + f": {exc}"
            hint = http_hint(status, str(exc), self.video_mode)
            error = self._scrub(message)[:500] + (f" [hint: {hint}]" if hint else "")
            return Generation(error=error, latency_s=time.perf_counter() - began), isinstance(exc, self._openai.APIConnectionError)

    def generate_iter(self, requests: list[Request], settings: SamplingSettings) -> Iterator[tuple[int, Generation]]:
        pending = iter(enumerate(requests))
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai")
        unreachable = 0  # requests in a row (by finishing order) that could not connect
        self._abort.clear()
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
                    generation, connect_failed = future.result()
                    unreachable = unreachable + 1 if connect_failed else 0
                    if unreachable == FAIL_FAST_AFTER:
                        raise BackendUnreachable(f"{FAIL_FAST_AFTER} requests in a row to {', '.join(self.base_urls)} failed to connect "
                                                 f"({generation.error}); is the server up? Finished items are kept: rerun to resume")
                    yield index, generation
                    nxt = next(pending, None)
                    if nxt is not None:
                        running[pool.submit(self._one, nxt[1], settings)] = nxt[0]
        finally:  # also on Ctrl-C or a caller that stops early: drop what has not started, stop retries
            self._abort.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        for client in self._clients:
            client.close()
