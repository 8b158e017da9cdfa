"""Command line: ``videossr <verb> ...``.

One module per verb group; each has ``register(verbs)`` that adds its sub-commands, and every
sub-command parses its arguments and calls one library function. ``main`` turns user mistakes
into one ``error:`` line with exit code 2, a folder another process writes into one line with
exit code 75, a full disk or another system error into one line with exit code 1, Ctrl-C (also
while the program is still starting) into exit 130, and a closed pipe into a quiet exit.
"""

from __future__ import annotations

import os
import signal
import sys


def _interrupted_while_starting(signum, frame) -> None:
    os.write(2, b"\ninterrupted\n")
    os._exit(130)


def _started_as_videossr() -> bool:
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return os.path.basename(sys.argv[0] or "") == "videossr" or (main_spec is not None and main_spec.name.startswith("videossr"))


if _started_as_videossr() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    # Ctrl-C during the imports below: exit 130 without a traceback (main restores Python's handler)
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import argparse  # noqa: E402
import errno  # noqa: E402
import importlib  # noqa: E402

from videossr import __version__  # noqa: E402

# verb-group modules, in help order
VERB_GROUPS = ("data", "train", "diagnose", "viubench", "eval")

USER_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError, FileExistsError, ValueError, KeyError)
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
FIXABLE_OS_ERRORS = (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG)


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


def _error(text: str, code: int) -> int:
    print(f"error: {' '.join(text.split())}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from videossr.outputs import BUSY_EXIT_CODE, OutputBusy

    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("\ninterrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OutputBusy as exc:
        return _error(str(exc), BUSY_EXIT_CODE)
    except USER_ERRORS as exc:
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            return _quiet_broken_pipe()
        return _error(_message(exc), getattr(exc, "exit_code", 2))  # 2: a usage error; 1 for errors that set it (an unreachable server)
    except OSError as exc:
        if exc.errno in NO_SPACE:
            where = f" writing {exc.filename}" if exc.filename else ""
            return _error(f"no space left on the device{where}; finished work is kept: free some space and rerun the same command", 1)
        return _error(_message(exc), 2 if exc.errno in FIXABLE_OS_ERRORS else 1)
