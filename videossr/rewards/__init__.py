"""Verifiable rewards for the VideoSSR pretext tasks, one scorer per task behind one dispatch table.

The rewards package owns the ``data_source`` strings: task generators build them only through
``data_source_for(task)``, which refuses a task without a scorer, so every data_source a dataset
holds resolves in ``scorer_for`` by construction.

>>> compute(data_source_for("counting"), "<answer>3,1,4</answer>", "3,1,4").score
1.0

Pure Python: nothing here imports numpy or torch. Framework wrappers live in
``videossr.rewards.verl`` (verl ``compute_score``) and ``videossr.rewards.trl`` (TRL reward
functions); ``docs/rewards.md`` documents the accepted answer grammar per task.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Callable

from videossr.names import did_you_mean
from videossr.rewards import counting, grounding, jigsaw
from videossr.rewards.parsing import RewardResult

DATA_SOURCE_PREFIX = "videossr/"
MODES = ("smooth", "strict")

Scorer = Callable[[str, str], RewardResult]

_TASK_SCORERS: dict[str, Scorer] = {module.TASK: module.score for module in (grounding, counting, jigsaw)}
TASKS: tuple[str, ...] = tuple(_TASK_SCORERS)
DETAIL_NAMES: MappingProxyType = MappingProxyType(
    {module.TASK: module.DETAIL_NAMES for module in (grounding, counting, jigsaw)}
)


def data_source_for(task: str) -> str:
    """The ``data_source`` string a dataset row of ``task`` must carry, e.g. ``"videossr/jigsaw"``."""
    if task not in _TASK_SCORERS:
        raise ValueError(f"no reward scorer for task {task!r}{did_you_mean(task, TASKS)}")
    return DATA_SOURCE_PREFIX + task


SCORERS: MappingProxyType = MappingProxyType({data_source_for(task): scorer for task, scorer in _TASK_SCORERS.items()})


def scorer_for(data_source: str) -> Scorer:
    """The ``score(response, ground_truth)`` function for a dataset's ``data_source``."""
    scorer = SCORERS.get(data_source) if isinstance(data_source, str) else None
    if scorer is None:
        raise ValueError(f"unknown data_source {data_source!r}{did_you_mean(data_source, SCORERS)}")
    return scorer


def task_for(data_source: str) -> str:
    """The task name of a known ``data_source`` (inverse of ``data_source_for``)."""
    scorer_for(data_source)
    return data_source[len(DATA_SOURCE_PREFIX):]


def as_text(response) -> str:
    """A model output as text: ``None`` is empty, bytes are decoded leniently, the rest ``str()``."""
    if isinstance(response, str):
        return response
    if response is None:
        return ""
    if isinstance(response, (bytes, bytearray)):
        return bytes(response).decode("utf-8", errors="replace")
    return str(response)


def compute(data_source: str, response, ground_truth: str, mode: str = "smooth") -> RewardResult:
    """Score one response; ``result.reward`` is the ``mode`` reward, ``score``/``strict`` are both kept.

    Raises ValueError for an unknown data_source, a malformed ground truth or an unknown mode
    (dataset or configuration bugs); never for anything the model wrote.
    """
    if mode not in MODES:
        raise ValueError(f"unknown reward mode {mode!r}{did_you_mean(mode, MODES)}")
    return scorer_for(data_source)(as_text(response), ground_truth).with_mode(mode)


__all__ = [
    "DATA_SOURCE_PREFIX",
    "DETAIL_NAMES",
    "MODES",
    "SCORERS",
    "TASKS",
    "RewardResult",
    "as_text",
    "compute",
    "data_source_for",
    "scorer_for",
    "task_for",
]
