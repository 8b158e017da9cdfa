"""Inference backends behind one batched interface (see :mod:`videossr.backends.base`).

``get_backend("transformers", model=...)``, ``get_backend("openai", base_url=..., model=...)``,
``get_backend("replay", path=...)``; heavy libraries are imported only when a backend is built.
"""

from videossr.backends.base import (
    DEFAULT_MAX_TOKENS,
    Backend,
    Generation,
    Request,
    SamplingSettings,
    Video,
    backend_names,
    cache_key,
    get_backend,
    register_backend,
)

__all__ = ["DEFAULT_MAX_TOKENS", "Backend", "Generation", "Request", "SamplingSettings", "Video", "backend_names", "cache_key", "get_backend", "register_backend"]
