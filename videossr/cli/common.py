"""Argument helpers shared by the verb groups."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_run_args(p: argparse.ArgumentParser) -> None:
    """``--workers``, ``--engine``, ``--no-progress``: how a long job runs."""
    p.add_argument("--workers", type=positive_int, default=None, help="parallel worker processes (default: all cores)")
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="local process pool, or Ray tasks on the cluster RAY_ADDRESS names (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
