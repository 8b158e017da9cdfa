"""verl 0.9.1 glue for live difficulty: a dataset class verl loads itself, and the reward plug-in's report.

verl config (``videossr train verl --live`` writes it)::

    data.custom_cls.path=pkg://videossr.live.verl
    data.custom_cls.name=LiveVerlDataset
    data.dataloader_num_workers=0        # items ask a Ray actor for their rung: no forked loader workers
    +data.videossr_live.build=/abs/BUILD  # the build whose store, recipe and plan the items come from
    +data.videossr_live.frames_dir=/abs/RUN/live-frames   (or +data.videossr_live.inline=true)
    +data.videossr_live.rollouts=8 +data.videossr_live.groups_per_step=64
    +data.videossr_live.state_path=/abs/RUN/live-controller.json

``LiveVerlDataset`` is verl's own ``RLHFDataset`` whose rows come from a
:class:`~videossr.live.dataset.LiveDataset` instead of a parquet: verl's ``__getitem__`` (raw
prompt with ``<video>`` parts, ``extra_info``), its ``process_vision_info`` (qwen-vl-utils, in the
agent loop) and its collate function are used unchanged. Creating it creates (or finds) the named
Ray actor holding the controller (``videossr.live.hub``). The reward plug-in
(``videossr.rewards.verl.compute_score``) calls ``videossr.live.hub.report`` for every answer of a live row.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path

from verl.utils.dataset.rl_dataset import RLHFDataset

from videossr.export import TRAIN_FILE
from videossr.live.dataset import LiveDataset
from videossr.live.hub import ACTOR_NAME, ray_hub

CONFIG_KEY = "videossr_live"


class _LiveRows:
    """What ``RLHFDataset`` reads as ``self.dataframe``: rows by index, made on demand."""

    def __init__(self, live: LiveDataset):
        self.live = live
        self.draws: dict[int, int] = defaultdict(int)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.live)

    def __getitem__(self, item: int) -> dict:
        row = self.live[int(item)]
        with self._lock:
            draw = self.draws[int(item)]
            self.draws[int(item)] += 1
        live = {**row["extra_info"]["live"], "key": f"{item}:{row['extra_info']['live']['rung']}:{draw}"}
        return {**row, "extra_info": {**row["extra_info"], "live": live}}


class LiveVerlDataset(RLHFDataset):
    """See the module docstring. Constructed by verl with its usual arguments."""

    def _read_files_and_tokenize(self):
        import ray

        settings = self.config.get(CONFIG_KEY)
        if not settings or not settings.get("build"):
            raise ValueError(f"LiveVerlDataset needs data.{CONFIG_KEY}.build (the videossr build folder); see videossr.live.verl")
        build = Path(settings["build"])
        if [Path(p).resolve() for p in self.original_data_files] != [(build / TRAIN_FILE).resolve()]:
            return super()._read_files_and_tokenize()  # the validation files: a static parquet, read as verl reads it
        live = LiveDataset(build, settings.get("frames_dir"), inline=bool(settings.get("inline", False)))
        actor = ray_hub(sorted({a.entry.task for a in live.plan}), name=settings.get("actor_name", ACTOR_NAME),
                        rollouts=int(settings["rollouts"]), groups_per_step=int(settings.get("groups_per_step", 0)),
                        state_path=settings.get("state_path"), config=dict(settings.get("controller", {}) or {}))
        live.rung_of = lambda task: ray.get(actor.rung.remote(task))
        self.dataframe = _LiveRows(live)
        print(f"videossr live dataset: {len(live)} items from {build} (rungs {ray.get(actor.rungs.remote())})")
