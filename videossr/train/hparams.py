"""The paper's GRPO recipe (VideoSSR, CVPR 2026), one record that the verl and TRL routes both map.

Numbers from the paper's training section: GRPO, 1 epoch, learning rate 1e-6, global batch 64
prompts, 8 rollouts per prompt, KL as a loss term with coefficient 1e-3 (not in the reward),
entropy coefficient 0, prompts up to 8192 tokens and responses up to 2048, no chain of thought
(the data's system prompt asks for the answer only). Base model Qwen3-VL-8B-Instruct on 8 H200
GPUs for about 16 hours.
"""

from __future__ import annotations

from dataclasses import dataclass

from videossr.rewards.verl import METRIC_KEYS

REWARD_MODES = ("smooth", "strict")
"""``smooth`` is the paper's reward; ``strict`` (exact match only) is its ablation baseline."""

FILTER_METRICS = METRIC_KEYS
"""Keys our verl reward returns; any can drive group filtering."""


@dataclass(frozen=True)
class GRPOHyperparameters:
    """GRPO settings; the defaults are the paper's. Batch sizes count prompts, not responses."""

    epochs: int = 1
    learning_rate: float = 1e-6
    batch_prompts: int = 64
    rollouts_per_prompt: int = 8
    kl_loss_coef: float = 1e-3
    entropy_coef: float = 0.0
    max_prompt_tokens: int = 8192
    max_response_tokens: int = 2048
    temperature: float = 1.0

    def __post_init__(self):
        for name in ("epochs", "batch_prompts", "rollouts_per_prompt", "max_prompt_tokens", "max_response_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.rollouts_per_prompt < 2:
            raise ValueError("GRPO needs at least 2 rollouts per prompt (the advantage is relative to the group)")


PAPER = GRPOHyperparameters()
