"""The pretext-task registry: task name -> module (see ``videossr.tasks.base`` for the protocol)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from videossr.names import unknown
from videossr.seeding import rng_for
from videossr.tasks import counting, grounding, jigsaw
from videossr.tasks.base import SampleContext, SkipSample, TaskSample

TASKS: dict[str, ModuleType] = {m.NAME: m for m in (grounding, counting, jigsaw)}


def get_task(name: str) -> ModuleType:
    if name not in TASKS:
        raise unknown("task", name, TASKS)
    return TASKS[name]


def make_sample(ctx: SampleContext, task: str, variant: str, index: int, *, seed: int, overrides: dict | None = None) -> TaskSample:
    """Generate sample ``index`` of ``task``/``variant`` from one video, seeded by (seed, video, task, variant, index)."""
    module = get_task(task)
    opts = module.options(variant, **(overrides or {}))
    rng: np.random.Generator = rng_for(seed, ctx.video_id, task, variant, index)
    return module.make(ctx, opts, rng, index, variant)


__all__ = ["TASKS", "get_task", "make_sample", "SampleContext", "SkipSample", "TaskSample"]
