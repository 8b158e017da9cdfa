"""What a GRPO run will cost, scaled from the paper's one measured figure.

The paper trained Qwen3-VL-8B-Instruct on VideoSSR-30K (30,000 prompts, 1 epoch, 64 prompts x 8
rollouts per step, prompts up to 8192 and responses up to 2048 tokens) on 8 H200 GPUs in about
16 hours: 128 GPU-hours for 240,000 responses. :func:`estimate` assumes cost is linear in the
responses generated and trained on (prompts x rollouts) and, for wall-clock time, inversely
proportional to the GPU count (perfect scaling: an optimistic bound across nodes), for the same
model size, GPU type and lengths. Steps follow verl's loader: ``rows // batch`` per epoch (the
last partial batch is dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

from videossr.train.hparams import GRPOHyperparameters

PAPER_PROMPTS = 30_000
PAPER_ROLLOUTS = 8
PAPER_GPUS = 8
PAPER_HOURS = 16.0
PAPER_GPU = "H200"
GPU_HOURS_PER_RESPONSE = PAPER_GPUS * PAPER_HOURS / (PAPER_PROMPTS * PAPER_ROLLOUTS)
ASSUMPTION = (f"scaled from the paper (8 {PAPER_GPU}, ~16 h for 30K prompts x 8 rollouts, Qwen3-VL-8B): "
              "linear in responses, inverse in GPUs")


@dataclass(frozen=True)
class CostEstimate:
    steps: int
    prompts: int
    responses: int
    gpus: int
    gpu_hours: float

    @property
    def hours(self) -> float:
        return self.gpu_hours / self.gpus

    def text(self) -> str:
        return (f"estimate: {self.steps} steps, {self.prompts} prompts, {self.responses} responses; "
                f"~{self.gpu_hours:.0f} {PAPER_GPU} GPU-hours, ~{self.hours:.1f} h on {self.gpus} GPUs ({ASSUMPTION})")

    def to_dict(self) -> dict:
        return {"steps": self.steps, "prompts": self.prompts, "responses": self.responses, "gpus": self.gpus,
                "gpu_hours": round(self.gpu_hours, 2), "hours": round(self.hours, 2), "assumption": ASSUMPTION}


def estimate(rows: int, hparams: GRPOHyperparameters, gpus: int) -> CostEstimate:
    """Steps, prompts, responses and GPU-hours of ``hparams.epochs`` epochs over ``rows`` prompts on ``gpus`` GPUs."""
    steps = rows // hparams.batch_prompts * hparams.epochs
    prompts = steps * hparams.batch_prompts
    responses = prompts * hparams.rollouts_per_prompt
    return CostEstimate(steps, prompts, responses, gpus, responses * GPU_HOURS_PER_RESPONSE)
