"""GRPO training on a videossr build: verl (the paper's route, one node or a Ray cluster) and TRL (one machine).

* :mod:`videossr.train.hparams` -- the paper's GRPO hyperparameters, the one place both routes read them from;
* :mod:`videossr.train.data` -- locating ``train.parquet`` / ``val.parquet`` and summarising them
  (rows, videos and frames per row, pixel limits) for the settings that depend on the data;
* :mod:`videossr.train.runs` -- run folders of both routes: a new folder per run, no silent resume,
  every launch kept in ``run.json``;
* :mod:`videossr.train.cost` -- steps, responses and GPU-hours of a run, scaled from the paper's figure;
* :mod:`videossr.train.verl` -- the ``verl.trainer.main_ppo`` command and the Ray runtime environment;
* :mod:`videossr.train.verl_launch` -- ``train.sh`` and the run folder on disk, and the launch (local, or
  ``ray job submit`` to a cluster);
* :mod:`videossr.train.verl_check` -- the command built into verl's typed worker configs on CPU;
* :mod:`videossr.train.merge` -- a verl FSDP checkpoint as a Hugging Face folder (``videossr train merge``);
* :mod:`videossr.train.trl_data` -- verl rows as TRL conversations (frames as images, timestamps as text);
* :mod:`videossr.train.trl` -- TRL's ``GRPOTrainer`` with our rewards, optional LoRA, an HF folder as result.

Nothing here imports torch, transformers, TRL or verl at import time.
"""
