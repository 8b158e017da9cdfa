"""Argument helpers shared by the verb groups."""

from __future__ import annotations

import argparse

DEFAULT_BASE_URL = "http://localhost:8000/v1"  # vLLM's


def _parsed(text: str, convert, what: str):
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``."""
    def parse(text: str) -> int:
        value = _parsed(text, int, f"an integer >= {minimum}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def finite_number(*, above: float | None = None, at_least: float | None = None, at_most: float | None = None, unit: str = ""):
    """An argparse type: a finite float in the given bounds (``nan`` and ``inf`` always refused)."""
    import math

    bounds = " and ".join(f"{op} {v:g}" for op, v in ((">", above), (">=", at_least), ("<=", at_most)) if v is not None)
    what = f"a finite number{' of ' + unit if unit else ''}{' ' + bounds if bounds else ''}"

    def parse(text: str) -> float:
        value = _parsed(text, float, what)
        if not math.isfinite(value) or (above is not None and value <= above) or (at_least is not None and value < at_least) \
                or (at_most is not None and value > at_most):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)
positive_seconds = finite_number(above=0, unit="seconds")
positive_float = finite_number(above=0)


def json_object(text: str) -> dict:
    """A JSON object given inline (``'{"enable_thinking": false}'``)."""
    import json

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"must be a JSON object, e.g. '{{\"enable_thinking\": false}}' ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text!r}")
    return value


def add_run_args(p: argparse.ArgumentParser) -> None:
    """``--workers``, ``--engine``, ``--no-progress``: how a long job runs."""
    p.add_argument("--workers", type=positive_int, default=None, help="parallel worker processes (default: all cores)")
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="local process pool, or Ray tasks on the cluster RAY_ADDRESS names (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _option(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` (the value read as YAML: ``2`` is a number, ``[a, b]`` a list)."""
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.replace("-", "_"), yaml.safe_load(value) if value else ""


def add_backend_args(p: argparse.ArgumentParser) -> None:
    """The inference backend and its options, the same for ``eval``, ``diagnose`` and ``calibrate``."""
    from videossr.backends.base import backend_names

    g = p.add_argument_group("backend")
    g.add_argument("--backend", required=True, help=f"inference backend ({', '.join(backend_names())})")
    g.add_argument("--model", help="transformers: checkpoint folder or hub name; openai: model name (default: the server's first)")
    g.add_argument("--batch-size", type=positive_int, default=8, help="transformers: requests per generate call (default %(default)s)")
    g.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"), help="transformers: weights dtype (default %(default)s)")
    g.add_argument("--device", default="auto", help="transformers: cuda, cuda:1, cpu, ... (default: cuda when available)")
    g.add_argument("--max-pixels", type=positive_int, help="per-frame pixel budget (default: each video's own)")
    g.add_argument("--min-pixels", type=positive_int, help="transformers: per-frame minimum pixels (default: each video's own)")
    g.add_argument("--base-url", action="append", help=f"openai: server URL (default {DEFAULT_BASE_URL}, vLLM's); repeat to spread requests over servers")
    g.add_argument("--video-mode", choices=("video", "frames"), default="video", help="openai: vLLM video_url of JPEG frames + fps, or images each after a <t seconds> text (default %(default)s)")
    g.add_argument("--concurrency", type=positive_int, default=8, help="openai: requests in flight (default %(default)s)")
    g.add_argument("--timeout", type=positive_seconds, default=300.0, help="openai: seconds per request (default %(default)s)")
    g.add_argument("--retries", type=non_negative_int, default=5, help="openai: retries on 429/5xx/timeouts, exponential backoff (default %(default)s)")
    g.add_argument("--chat-template-kwargs", type=json_object, metavar="JSON",
                   help="transformers/openai: extra chat-template arguments, e.g. '{\"enable_thinking\": false}' (openai: sent as chat_template_kwargs)")
    g.add_argument("--replay-file", help="replay: a predictions JSONL to answer from")
    g.add_argument("--backend-opt", action="append", type=_option, metavar="KEY=VALUE",
                   help="any other backend option, repeatable (e.g. skill=2 for synthetic); unknown keys are refused")


def backend_options(args) -> dict:
    """The options of the chosen backend: its own flags, then ``--backend-opt`` extras."""
    if args.backend == "transformers":
        if not args.model:
            raise ValueError("--backend transformers needs --model (a checkpoint folder or hub name)")
        options = {"model": args.model, "batch_size": args.batch_size, "dtype": args.dtype, "device": args.device,
                   "max_pixels": args.max_pixels, "min_pixels": args.min_pixels}
        if args.chat_template_kwargs:
            options["chat_template_kwargs"] = args.chat_template_kwargs
    elif args.backend == "openai":
        options = {"model": args.model, "base_url": args.base_url or [DEFAULT_BASE_URL], "video_mode": args.video_mode,
                   "concurrency": args.concurrency, "timeout_s": args.timeout, "max_retries": args.retries, "max_pixels": args.max_pixels}
        if args.chat_template_kwargs:
            options["chat_template_kwargs"] = args.chat_template_kwargs
    elif args.backend == "replay":
        extra = dict(args.backend_opt or [])
        if not args.replay_file and "path" not in extra:
            raise ValueError("--backend replay needs --replay-file PREDICTIONS.jsonl")
        options = {"path": args.replay_file} if args.replay_file else {}
    else:
        options = {"model": args.model} if args.model else {}
    return {**options, **dict(args.backend_opt or [])}
