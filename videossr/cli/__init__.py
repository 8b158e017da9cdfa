"""Command line: ``videossr <verb> ...``.

One module per verb group; each has ``register(verbs)`` that adds its sub-commands, and every
sub-command parses its arguments and calls one library function. ``main`` turns user mistakes
into one ``error:`` line with exit code 2, Ctrl-C into exit 130, and a closed pipe into a quiet exit.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

from videossr import __version__

# verb-group modules, in help order
VERB_GROUPS = ("data", "train", "diagnose", "viubench", "eval")

USER_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError, FileExistsError, ValueError, KeyError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="videossr", description="Verifiable self-supervised RL data from raw videos (VideoSSR).")
    parser.add_argument("--version", action="version", version=f"videossr {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_GROUPS:
        importlib.import_module(f"videossr.cli.{name}").register(verbs)
    return parser


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc) or type(exc).__name__


def _quiet_broken_pipe() -> int:
    # the reader (e.g. `| head`) went away: stop writing without a traceback
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("\ninterrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except USER_ERRORS as exc:
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            return _quiet_broken_pipe()
        print(f"error: {_message(exc)}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)  # 2: a usage error; 1 for errors that set it (an unreachable server)
