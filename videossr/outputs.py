"""Output roots: which folders videossr owns, so outputs are never read as input or mixed up.

Every output root (``sample``, ``build``, ``export`` and the benchmark) holds a marker file
``.videossr.json`` naming what wrote it. Discovery never enters a folder with a marker (or the
files of an older videossr output), and a command refuses to write into a non-empty folder that
another kind of command, or no videossr command, wrote.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from videossr import atomic
from videossr.errors import UserError

MARKER = ".videossr.json"
# files by which outputs written before the marker existed are recognised
LEGACY_SIGNS = (("dataset.json", "store"), ("manifest.jsonl", "sampling.json"), ("eval.json", "videos"))


def output_kind(folder: Path) -> str | None:
    """The kind of videossr output ``folder`` holds (``"build"``, ``"sample"``, ...), or None."""
    marker = folder / MARKER
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text(encoding="utf-8")).get("kind", "unknown"))
        except (OSError, ValueError):
            return "unknown"
    for signs in LEGACY_SIGNS:
        if all((folder / name).exists() for name in signs):
            return "legacy"
    return None


def is_output_root(folder: Path) -> bool:
    return output_kind(folder) is not None


def _is_within(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def claim_output(input_dir: Path | None, out: Path, *, kind: str, overwrite: bool = False) -> None:
    """Check that ``out`` may hold a ``kind`` output, then mark it as such (creating it).

    Refused: ``out`` equal to the input folder or containing it; an existing file; a non-empty
    folder that is not a videossr output of the same kind (``overwrite`` accepts an output of an
    older videossr version); a folder this process cannot write. ``input_dir`` None skips the
    input checks (e.g. an export, whose input is a dataset).
    """
    out = Path(out)
    if input_dir is not None:
        input_dir = Path(input_dir)
        if not input_dir.is_dir():
            raise UserError(f"video folder not found: {input_dir}" if not input_dir.exists() else f"{input_dir} is not a folder")
        if _is_within(input_dir.resolve(), out.resolve()):
            raise UserError(f"--out {out} is the input folder or contains it; write the output somewhere else")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        found = output_kind(out)
        if found is None:
            raise UserError(f"--out {out} is a non-empty folder that videossr did not write; choose an empty or new folder")
        if found == "legacy" and not overwrite:
            raise UserError(f"--out {out} holds output of an older videossr version; pass --overwrite to replace it, or choose a new folder")
        if found not in (kind, "legacy"):
            raise UserError(f"--out {out} holds a videossr {found} output, not a {kind} output; choose another folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=atomic.TMP_PREFIX)
        probe.close()
    except OSError as exc:
        raise UserError(f"cannot write to --out {out}: {exc.strerror or exc}") from None
    if output_kind(out) != kind:
        atomic.write_json(out / MARKER, {"kind": kind, "written_by": "videossr"})

