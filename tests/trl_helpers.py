"""Shared pieces of the TRL tests (not a test module): a small real build and an answering tiny model.

The tiny Qwen3-VL has random weights, so its answers would never parse and every GRPO group would
score all zeros (zero advantage, zero gradient). :func:`teach_answers` first teaches it, with a
few real supervised steps, to answer in the tasks' formats (``0.3-1.3``, ``3,1,4``, ``315264``);
sampled answers then differ within a group, so our rewards differ and GRPO has a gradient.
"""

from __future__ import annotations

from pathlib import Path

TASK_FORMAT_ANSWERS = ("2.5-4.0", "1.0-2.5", "1,2,3", "3,1,4", "2,2,1", "315264", "625413", "1,1,2")

SMALL_RECIPE = {
    "name": "trl-small", "seed": 0, "sampling": {"num_frames": 24},
    "training_pixels": {"max_pixels": 128 * 128, "min_pixels": 64 * 64},
    "entries": [{"task": "grounding", "variant": "mirror", "weight": 1}, {"task": "jigsaw", "variant": "easy", "weight": 1},
                {"task": "counting", "variant": "easy", "weight": 1}],
}
"""All three tasks (jigsaw: 6 videos in one prompt) at 24 frames of 128x128: video prompts of a few hundred tokens."""


def build_small(clips_dir, out: Path) -> Path:
    from videossr.build import build
    from videossr.recipe import parse_recipe

    build(clips_dir, out, parse_recipe(SMALL_RECIPE), size=4, workers=1, progress=False)
    return out


def teach_answers(path: Path, answers, steps: int = 40) -> Path:
    """Supervised steps on ``<|im_start|>assistant\\nANSWER<|im_end|>`` for each answer; saved in place."""
    import torch
    from transformers import AutoModelForImageTextToText

    from tiny_qwen import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    batch = tokenizer([f"<|im_start|>assistant\n{a}<|im_end|>" for a in sorted(set(answers) | set(TASK_FORMAT_ANSWERS))],
                      return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(path)
    return path


def state_dict(path):
    import torch
    from transformers import AutoModelForImageTextToText

    return {k: v.detach().clone() for k, v in AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).state_dict().items()}
