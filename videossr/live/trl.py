"""TRL glue for live difficulty: a torch dataset over a LiveDataset and a reward that steers it.

* :func:`live_trl_dataset` is a ``datasets.Dataset`` of item numbers whose transform
  (:class:`LiveExamples`) turns item i of a :class:`~videossr.live.dataset.LiveDataset` (a
  verl-shaped row made at the controller's current rung) into the example TRL's GRPOTrainer reads,
  with ``to_example(row)`` (the converter the static TRL route uses for parquet rows), plus the
  columns a report needs: ``task``, ``live_rung``, ``live_item``. TRL's sampler asks for each prompt
  once per rollout; the last examples are kept so a prompt is generated once per step.
* :class:`LiveReward` is the training reward (smooth or strict, as :class:`videossr.rewards.trl.VideoSSRReward`)
  that also sends every group's smooth rewards to the run's :class:`~videossr.live.hub.LiveHub` and logs,
  per step, ``live/rung/<task>``, ``live/mean_smooth/<task>`` and ``live/zero_variance_share``.

One process only: each TRL process would otherwise steer its own controller (use the verl route
across GPUs or nodes).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from videossr.live.controller import STD_EPS
from videossr.live.dataset import LiveDataset
from videossr.live.hub import LiveHub
from videossr.rewards.trl import VideoSSRReward

CACHE_ITEMS = 256


class LiveExamples:
    """The ``datasets`` transform of a live TRL dataset: a batch of item numbers -> TRL examples made now."""

    def __init__(self, live: LiveDataset, to_example: Callable[[dict], dict]):
        self.live, self.to_example = live, to_example
        self._cache: OrderedDict = OrderedDict()

    def example(self, i: int) -> dict:
        task = self.live.task_of(i)
        rung = int(self.live.rung_of(task)) if self.live.rung_of else self.live.default_rung(task)
        key = (int(i), rung)
        if key not in self._cache:
            row = self.live[int(i)]
            self._cache[key] = {**self.to_example(row), "task": task, "live_rung": row["extra_info"]["live"]["rung"], "live_item": int(i)}
            while len(self._cache) > CACHE_ITEMS:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return dict(self._cache[key])

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        examples = [self.example(i) for i in batch["live_item"]]
        return {name: [ex[name] for ex in examples] for name in examples[0]} if examples else {}


def live_trl_dataset(live: LiveDataset, to_example: Callable[[dict], dict]):
    """A ``datasets.Dataset`` of ``len(live)`` item numbers whose rows are made when TRL reads them (TRL takes only ``datasets``)."""
    from datasets import Dataset

    return Dataset.from_dict({"live_item": list(range(len(live)))}).with_transform(LiveExamples(live, to_example))


class LiveReward:
    """The training reward of a live TRL run (``mode`` smooth or strict) that reports each group to ``hub``."""

    def __init__(self, hub: LiveHub, mode: str = "smooth"):
        self.hub, self.mode = hub, mode
        self.reward = VideoSSRReward(mode)
        self._smooth = self.reward if mode == "smooth" else VideoSSRReward("smooth")
        self.__name__ = self.reward.__name__

    def __call__(self, prompts=None, completions=None, trainer_state=None, log_metric=None, **columns) -> list[float]:
        rewards = self.reward(prompts=prompts, completions=completions, **columns)
        smooth = rewards if self._smooth is self.reward else self._smooth(prompts=prompts, completions=completions, **columns)
        if trainer_state is not None:
            self.hub.set_step(int(trainer_state.global_step))
        groups: OrderedDict = OrderedDict()  # (item, rung) -> (task, smooth rewards), in completion order
        for item, rung, task, value in zip(columns["live_item"], columns["live_rung"], columns["task"], smooth):
            groups.setdefault((int(item), int(rung)), (task, []))[1].append(float(value))
        per_task: dict[str, list[float]] = {}
        flat = 0
        for (_, rung), (task, values) in groups.items():
            self.hub.report_group(task, rung, values)
            per_task.setdefault(task, []).append(sum(values) / len(values))
            mean = sum(values) / len(values)
            flat += max(abs(v - mean) for v in values) <= STD_EPS
        if log_metric is not None and groups:
            for task, rung in self.hub.rungs().items():
                log_metric(f"live/rung/{task}", float(rung))
            for task, means in per_task.items():
                log_metric(f"live/mean_smooth/{task}", sum(means) / len(means))
            log_metric("live/zero_variance_share", flat / len(groups))
        return rewards
