"""Where a live run's samples meet its rewards: a controller that assembles per-sample reports into groups.

The dataset asks ``rung(task)`` for every item it makes; the reward function reports every scored
answer with ``report_sample(key, task, rung, reward)``, where ``key`` names the prompt draw the
answer belongs to (all rollouts of one prompt share it). When a key has ``rollouts`` rewards the
group goes to the :class:`~videossr.live.controller.Controller`. Decisions are stamped with the
training step ``completed groups // groups_per_step`` unless the caller sets the step itself
(TRL passes its global step). After every decision the state is written atomically to
``state_path`` (JSON: the controller's state plus the groups still open), so a resumed run
continues from the last decision.

:class:`LiveHub` is plain Python (TRL keeps one in its process). On verl, :func:`ray_hub` wraps
the same class in a named Ray actor that the dataset creates and the reward plug-in looks up by
name, so every worker on every node talks to one controller.
"""

from __future__ import annotations

import json
from pathlib import Path

from videossr import atomic
from videossr.live.controller import Controller, ControllerConfig

HUB_FORMAT = "videossr-live-hub-1"
ACTOR_NAME = "videossr-live-controller"


class LiveHub:
    def __init__(self, tasks, *, rollouts: int, groups_per_step: int = 0, state_path: str | None = None, config: dict | None = None):
        self.rollouts, self.groups_per_step = int(rollouts), int(groups_per_step)
        if self.rollouts < 2:
            raise ValueError(f"a live run needs at least 2 rollouts per prompt (a group of 1 has no variance), got {rollouts}")
        self.state_path = Path(state_path) if state_path else None
        self.open: dict[str, list[float]] = {}
        self.completed = 0
        saved = self._load()
        if saved:
            self.controller = Controller.from_state(saved["controller"])
            self.open = {k: list(v) for k, v in saved["open"].items()}
            self.completed = int(saved["completed"])
        else:
            cfg = dict(config or {})
            if "band" in cfg:
                cfg["band"] = tuple(cfg["band"])
            self.controller = Controller.for_tasks(sorted(tasks), ControllerConfig(**cfg))

    def _load(self) -> dict | None:
        if not self.state_path or not self.state_path.is_file():
            return None
        data = json.loads(self.state_path.read_text(encoding="utf-8"))
        if data.get("format") != HUB_FORMAT:
            raise ValueError(f"{self.state_path} is not a live controller state (format {data.get('format')!r})")
        return data

    def rung(self, task: str) -> int:
        return self.controller.rung(task)

    def rungs(self) -> dict[str, int]:
        return self.controller.rungs()

    def set_step(self, step: int) -> None:
        self.controller.advance(step)

    def report_sample(self, key: str, task: str, rung: int, reward: float) -> bool:
        """One scored answer; returns True when it completed its group."""
        group = self.open.setdefault(str(key), [])
        group.append(float(reward))
        if len(group) < self.rollouts:
            return False
        del self.open[str(key)]
        self.report_group(task, rung, group)
        return True

    def report_group(self, task: str, rung: int, rewards) -> None:
        """A whole group at once (TRL's reward function sees every rollout of a prompt together)."""
        self.completed += 1
        if self.groups_per_step:
            self.controller.advance(self.completed // self.groups_per_step)
        if self.controller.report(task, rung, rewards) is not None:
            self.save()

    def decisions(self, moved_only: bool = False) -> list[dict]:
        return [d.as_dict() for d in self.controller.decisions if d.moved or not moved_only]

    def state(self) -> dict:
        return {"format": HUB_FORMAT, "controller": self.controller.state(), "open": self.open, "completed": self.completed}

    def save(self) -> None:
        if self.state_path:
            atomic.write_json(self.state_path, self.state())


def ray_hub(tasks, *, name: str = ACTOR_NAME, **kwargs):
    """The named Ray actor holding one :class:`LiveHub` (created on first call, found by name afterwards)."""
    import ray

    actor_cls = ray.remote(num_cpus=0)(LiveHub)
    return actor_cls.options(name=name, get_if_exists=True).remote(sorted(tasks), **kwargs)


def find_ray_hub(name: str = ACTOR_NAME):
    """The running live actor called ``name``, or None when there is none (a run without --live)."""
    import ray

    try:
        return ray.get_actor(name)
    except ValueError:
        return None


_ACTORS: dict = {}


def report(extra_info: dict, reward: float) -> None:
    """Send one scored answer of a live row to the controller actor (fire and forget; no-op without one)."""
    live = extra_info.get("live") if isinstance(extra_info, dict) else None
    if not live or "key" not in live:
        return
    name = live.get("actor", ACTOR_NAME)
    if name not in _ACTORS:
        _ACTORS[name] = find_ray_hub(name)
    if _ACTORS[name] is not None:
        _ACTORS[name].report_sample.remote(live["key"], extra_info["task"], int(live["rung"]), float(reward))
