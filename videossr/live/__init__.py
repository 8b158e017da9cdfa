"""Live difficulty: samples generated during training at a difficulty steered by the rollouts' rewards.

* ``videossr.live.controller`` — the difficulty controller (pure logic): per task, a rung on the
  task's calibration ladder (``videossr.diagnose.ladders``), moved by reports of finished GRPO groups.
* ``videossr.live.simulate`` — a simulated learner for ``benchmarks/bench_live.py``.
"""

from videossr.live.controller import Controller, ControllerConfig, Decision, Evidence

__all__ = ["Controller", "ControllerConfig", "Decision", "Evidence"]
