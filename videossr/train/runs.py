"""Run folders of both training routes: a fresh name per run, no silent resume, a history of launches.

A run folder holds what one training run writes (``run.json``, the trainer's ``checkpoints/``,
logs). The rules, the same for verl and TRL:

* :func:`default_out` names a new folder per run (``runs/verl-smooth-20261201-213000``), so two
  runs never share checkpoints by accident;
* :func:`claim` refuses a folder that already holds checkpoints unless the caller asked to
  continue them (``resume``) or to start over (``overwrite``: :func:`clear_checkpoints` removes
  them at launch); it returns how the launch treats the folder (:data:`NEW`, :data:`RESUME`,
  :data:`OVERWRITE`);
* :func:`record_launch` appends one record per launch to ``run.json`` (``launches``, oldest first)
  and mirrors the latest one at the top level, so earlier launches' settings are never lost.

Nothing here knows a trainer: the caller says which sub-folder holds checkpoints.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

from videossr.errors import UserError

RUN_RECORD = "run.json"
CHECKPOINTS = "checkpoints"
NEW, RESUME, OVERWRITE = "new", "resume", "overwrite"
TIME_FORMAT = "%Y%m%d-%H%M%S"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def default_out(route: str, reward: str, root: str | Path = "runs", now: datetime | None = None) -> Path:
    """``ROOT/ROUTE-REWARD-YYYYmmdd-HHMMSS`` (UTC), with ``-2``, ``-3``... if that name is taken."""
    base = Path(root) / f"{route}-{reward}-{(now or _now()).strftime(TIME_FORMAT)}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def checkpoint_entries(out: Path, checkpoints: str = CHECKPOINTS) -> list[Path]:
    """What the trainer left in ``OUT/checkpoints`` (hidden files ignored), sorted by name."""
    folder = Path(out) / checkpoints
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def claim(out: Path, *, resume: bool = False, overwrite: bool = False, checkpoints: str = CHECKPOINTS) -> str:
    """How a launch may use ``out``: :data:`NEW`, :data:`RESUME` or :data:`OVERWRITE`.

    Raises :class:`UserError` when ``out`` holds checkpoints and neither ``resume`` nor ``overwrite``
    is given (the trainer would continue or mix with them), when both are given, or when ``out`` is
    a file. ``resume`` on a folder without checkpoints is :data:`RESUME` all the same (the trainer
    starts from step 0); callers may say so.
    """
    out = Path(out)
    if resume and overwrite:
        raise UserError("--resume and --overwrite exclude each other")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a run folder")
    found = checkpoint_entries(out, checkpoints)
    if resume:
        return RESUME
    if found and not overwrite:
        raise UserError(f"{out} already holds checkpoints ({', '.join(p.name for p in found[:3])}"
                        f"{', ...' if len(found) > 3 else ''}): pass --resume to continue that run, "
                        "--overwrite to delete them and start over, or another --out")
    return OVERWRITE if found else NEW


def clear_checkpoints(out: Path, checkpoints: str = CHECKPOINTS) -> None:
    """Remove ``OUT/checkpoints`` (the :data:`OVERWRITE` case, right before the new launch)."""
    shutil.rmtree(Path(out) / checkpoints, ignore_errors=True)


def read_record(out: Path) -> dict | None:
    path = Path(out) / RUN_RECORD
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is not a readable run record ({exc}); move it away to reuse the folder") from exc


def launches(out: Path) -> int:
    """How many launches ``OUT/run.json`` records (0 for a new folder)."""
    record = read_record(out)
    return 0 if record is None else len(record.get("launches") or [record])


def record_launch(out: Path, record: dict, run_format: str, now: datetime | None = None) -> Path:
    """Append ``record`` (plus ``launched_at``) to ``OUT/run.json``'s ``launches``; the latest is also top level.

    A run.json of another format (another route's run) is refused, so one folder never mixes routes.
    A record written before launches were kept becomes the first launch.
    """
    from videossr.atomic import write_json

    old = read_record(out)
    launches: list[dict] = []
    if old is not None:
        if old.get("format") != run_format:
            raise UserError(f"{Path(out) / RUN_RECORD} is a {old.get('format')!r} run, not {run_format!r}: use another --out")
        launches = list(old.get("launches") or [{k: v for k, v in old.items() if k != "format"}])
    entry = {"launched_at": (now or _now()).isoformat(timespec="seconds"), **record}
    launches.append(entry)
    return write_json(Path(out) / RUN_RECORD, {**entry, "format": run_format, "launches": launches})
