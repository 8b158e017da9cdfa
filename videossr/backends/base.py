"""The one batched inference interface every backend implements, and the backend registry.

A :class:`Request` is a system prompt plus ordered user parts: text strings and :class:`Video`
parts (a tuple of JPEG frame paths with the ``sample_fps`` that puts frame ``i`` at
``i / sample_fps`` seconds). Requests are frozen and carry a stable content key
(:meth:`Request.key`: prompt, texts and the frames' bytes, not their paths), which the response
cache combines with the backend's identity and the sampling settings.

``Backend.generate(requests, *, n, temperature, max_tokens, seed)`` returns one
:class:`Generation` per request, in request order: ``n`` texts, or an ``error`` string for an
item that failed (a failed item never ends a run). ``Backend.generate_iter`` yields
``(index, Generation)`` as each item finishes, so a runner can record results as they come.

Backends are looked up by name with :func:`get_backend`; built-in names map to
``"module:attribute"`` so nothing heavy (torch, openai) is imported until a backend is built.
A module can add one with :func:`register_backend` (or one line in ``_BUILTIN``).
"""

from __future__ import annotations

import abc
import functools
import hashlib
import importlib
import inspect
import json
import math
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterable, Iterator, Union

from videossr.errors import UserError
from videossr.names import did_you_mean
from videossr.seeding import stable_seed

DEFAULT_MAX_TOKENS = 128  # the paper's evaluation setting (max_new_tokens)


class BackendUnreachable(UserError):
    """The model cannot be reached at all (e.g. every first request failed to connect): the run
    stops at once, keeping the work it finished; the CLI exits 1."""

    exit_code = 1


@dataclass(frozen=True)
class Video:
    """One video part: frame paths in time order (JPEG files) and the fps of the model's time axis.

    ``max_pixels`` / ``min_pixels`` (optional) are per-frame pixel budgets a backend applies when
    it resizes frames (``None``: the backend's own setting).
    """

    frames: tuple[str, ...]
    sample_fps: float
    max_pixels: int | None = None
    min_pixels: int | None = None

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("a video part needs at least one frame")
        if not self.sample_fps > 0:
            raise ValueError(f"sample_fps must be > 0, got {self.sample_fps}")
        object.__setattr__(self, "frames", tuple(str(f) for f in self.frames))

    def __repr__(self) -> str:
        return f"Video(frames={len(self.frames)}, sample_fps={self.sample_fps}, first={self.frames[0]!r})"

    def to_dict(self) -> dict:
        return {"frames": list(self.frames), "sample_fps": self.sample_fps, "max_pixels": self.max_pixels, "min_pixels": self.min_pixels}

    @functools.cached_property
    def content_key(self) -> str:
        """A digest of the frames' bytes (not their paths), fps and pixel budgets, computed once.

        The same frames give the same key wherever they are stored (a relocated dataset, two
        output folders); a frame that cannot be read is keyed by its path.
        """
        digest = hashlib.blake2b(digest_size=16)
        for frame in self.frames:
            try:
                with open(frame, "rb") as fh:
                    digest.update(hashlib.blake2b(fh.read(), digest_size=16).digest())
            except OSError:
                digest.update(b"unreadable:" + frame.encode("utf-8", "surrogateescape"))
        digest.update(json.dumps([self.sample_fps, self.max_pixels, self.min_pixels]).encode())
        return digest.hexdigest()


Part = Union[str, Video]


@dataclass(frozen=True)
class Request:
    """System prompt + ordered user parts (text strings and :class:`Video` parts).

    ``id`` names the item the request asks (the eval runner sets it): not part of :meth:`key`,
    but sampled answers are drawn per item (:func:`item_seed`) and cached per item
    (:func:`cache_key`), so two items with the same video and question never share a sample.
    """

    system: str
    parts: tuple[Part, ...]
    id: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        parts = tuple(self.parts)
        for part in parts:
            if not isinstance(part, (str, Video)):
                raise TypeError(f"a request part is a str or a Video, got {type(part).__name__}")
        object.__setattr__(self, "parts", parts)

    @property
    def videos(self) -> tuple[Video, ...]:
        return tuple(p for p in self.parts if isinstance(p, Video))

    @property
    def text(self) -> str:
        """The user text with ``<video>`` where each video goes (the verl parquet layout)."""
        return "".join(p if isinstance(p, str) else "<video>" for p in self.parts)

    def to_dict(self) -> dict:
        parts = [{"text": p} if isinstance(p, str) else {"video": p.to_dict()} for p in self.parts]
        return {"system": self.system, "parts": parts}

    def key(self) -> str:
        """A stable hex digest of the content: system prompt, texts, and each video's frame bytes,
        fps and pixel budgets (:attr:`Video.content_key`; paths do not matter)."""
        parts = [{"text": p} if isinstance(p, str) else {"video": p.content_key} for p in self.parts]
        return _digest({"system": self.system, "parts": parts})


@dataclass(frozen=True)
class Generation:
    """What a backend returned for one request: ``texts`` (n of them) or an ``error``.

    ``latency_s`` is the wall time spent on this item (for a batch: the batch time); ``cached``
    says the texts came from the response cache.
    """

    texts: tuple[str, ...] = ()
    error: str | None = None
    latency_s: float = 0.0
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class SamplingSettings:
    """How outputs are decoded. ``temperature`` 0 is greedy; above 0 every backend samples, with
    ``top_p`` (None: 1.0, no nucleus cut), ``top_k`` (None: no cut) and ``repetition_penalty``
    (None: 1.0) sent explicitly, so a checkpoint's or server's own defaults (a generation_config
    with ``top_k: 1`` or ``do_sample: false``) can never turn sampling into greedy decoding."""

    n: int = 1
    temperature: float = 0.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    seed: int = 0
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise UserError(f"n must be >= 1, got {self.n}")
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise UserError(f"temperature must be a finite number >= 0, got {self.temperature}")
        if self.max_tokens < 1:
            raise UserError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.top_p is not None and not (0 < self.top_p <= 1):
            raise UserError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k is not None and (isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1):
            raise UserError(f"top_k must be an integer >= 1, got {self.top_k}")
        if self.repetition_penalty is not None and not (math.isfinite(self.repetition_penalty) and self.repetition_penalty > 0):
            raise UserError(f"repetition_penalty must be a finite number > 0, got {self.repetition_penalty}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    @property
    def effective_top_p(self) -> float:
        return 1.0 if self.top_p is None else float(self.top_p)

    @property
    def effective_repetition_penalty(self) -> float:
        return 1.0 if self.repetition_penalty is None else float(self.repetition_penalty)

    def to_dict(self) -> dict:
        """Every setting that shapes the outputs, as sent (what run.json records and the cache keys on)."""
        return {"n": self.n, "temperature": self.temperature, "do_sample": not self.greedy, "max_tokens": self.max_tokens, "seed": self.seed,
                "top_p": self.effective_top_p, "top_k": self.top_k, "repetition_penalty": self.effective_repetition_penalty}


def item_seed(settings: SamplingSettings, request: Request) -> int:
    """The sampling seed of one request: the run's seed and the item's id (its content key when it
    has none), so a sample never depends on which other requests share its batch or call."""
    return stable_seed(settings.seed, "item", request.id if request.id is not None else request.key())


def number_option(name: str, value, *, minimum: float | None = None, exclusive: bool = False) -> float:
    """A backend option that must be a finite number (above ``minimum``); a one-line UserError otherwise."""
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    bad = not math.isfinite(number) or (minimum is not None and (number <= minimum if exclusive else number < minimum))
    if bad:
        bound = "" if minimum is None else f" {'>' if exclusive else '>='} {minimum:g}"
        raise UserError(f"backend option {name} must be a finite number{bound}, got {value!r}")
    return number


def count_option(name: str, value, minimum: int) -> int:
    """A backend option that must be an integer >= ``minimum``; a one-line UserError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UserError(f"backend option {name} must be an integer >= {minimum}, got {value!r}")
    return value


def _digest(obj) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(identity: dict, request: Request, settings: SamplingSettings) -> str:
    """The response-cache key of (backend identity, request, sampling settings).

    Greedy answers are shared by identical requests (same content, model identity and settings);
    sampled answers are an item's own draws, so the key adds the item id."""
    key = {"backend": identity, "request": request.key(), "sampling": settings.to_dict()}
    if not settings.greedy and request.id is not None:
        key["item"] = request.id
    return _digest(key)


class Backend(abc.ABC):
    """A model that answers batches of :class:`Request`.

    Subclasses implement :meth:`generate_iter` (or :meth:`generate`), :meth:`identity` (what
    makes two backends give the same answers: name, model, settings that change outputs; never
    secrets) and optionally :meth:`render` (one request as the backend will send it, for
    ``--dry-run``) and :meth:`close`.
    """

    name: ClassVar[str] = "backend"
    cacheable: ClassVar[bool] = True  # False: answers are not a model's (replay) and never go in the response cache

    @abc.abstractmethod
    def identity(self) -> dict:
        """Backend name, model and output-changing options (no secrets); part of the cache key."""

    def generate_iter(self, requests: list[Request], settings: SamplingSettings) -> Iterator[tuple[int, Generation]]:
        """Yield ``(index into requests, Generation)`` as items finish (any order)."""
        yield from enumerate(self.generate(requests, n=settings.n, temperature=settings.temperature, max_tokens=settings.max_tokens, seed=settings.seed))

    def generate(self, requests: Iterable[Request], *, n: int = 1, temperature: float = 0.0, max_tokens: int = DEFAULT_MAX_TOKENS, seed: int = 0,
                 **sampling) -> list[Generation]:
        """One :class:`Generation` per request, in request order (``sampling``: top_p, top_k, repetition_penalty)."""
        requests = list(requests)
        settings = SamplingSettings(n=n, temperature=temperature, max_tokens=max_tokens, seed=seed, **sampling)
        if type(self).generate_iter is Backend.generate_iter:
            raise NotImplementedError(f"{type(self).__name__} implements neither generate nor generate_iter")
        out: list[Generation | None] = [None] * len(requests)
        for index, generation in self.generate_iter(requests, settings):
            out[index] = generation
        return [g if g is not None else Generation(error="backend returned no result") for g in out]

    def render(self, request: Request) -> str:
        """One request as this backend sends it (for ``--dry-run``)."""
        return json.dumps(request.to_dict(), indent=2, ensure_ascii=False)

    def prompt(self, request: Request) -> str:
        """The request as this backend sends it, cheaply (for ``--log-prompts``; default :meth:`render`)."""
        return self.render(request)

    def close(self) -> None:
        """Release resources (servers, threads, GPU memory)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# name -> "module:attribute" of a Backend subclass (or factory) taking keyword options
_BUILTIN: dict[str, str] = {
    "transformers": "videossr.backends.transformers:TransformersBackend",
    "openai": "videossr.backends.openai:OpenAIBackend",
    "replay": "videossr.backends.replay:ReplayBackend",
    "synthetic": "videossr.backends.synthetic:SyntheticBackend",
}
_REGISTERED: dict[str, Callable[..., Backend]] = {}


def register_backend(name: str, factory: Callable[..., Backend]) -> None:
    """Add a backend under ``name`` (refuses a name already taken)."""
    if name in _REGISTERED or name in _BUILTIN:
        raise ValueError(f"backend {name!r} is already registered")
    _REGISTERED[name] = factory


def backend_names() -> tuple[str, ...]:
    return tuple(_BUILTIN) + tuple(n for n in _REGISTERED if n not in _BUILTIN)


def get_backend(name: str, **options) -> Backend:
    """Build the backend called ``name`` with its keyword ``options``; did-you-mean on unknown names."""
    factory = _REGISTERED.get(name)
    if factory is None:
        target = _BUILTIN.get(name)
        if target is None:
            raise UserError(f"unknown backend {name!r}{did_you_mean(name, backend_names())}")
        module_name, attr = target.split(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                raise UserError(f"backend {name!r} is not available in this installation ({module_name} is missing)") from None
            raise
    _check_options(name, factory, options)
    return factory(**options)


def _check_options(name: str, factory: Callable[..., Backend], options: dict) -> None:
    """Refuse option names the backend's constructor does not take (a typo would be ignored otherwise)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    known = [n for n, p in params.items() if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) and n != "self"]
    for option in options:
        if option not in known:
            raise UserError(f"backend {name!r} has no option {option!r}{did_you_mean(option, known)}")
