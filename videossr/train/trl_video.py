"""TRL's GRPOTrainer on Qwen3-VL video tokens: the clip goes into generation, the old/reference
log-probs and the loss as ``pixel_values_videos`` / ``video_grid_thw``.

TRL 1.16 carries only image fields (``pixel_values``, ``image_grid_thw``) into its log-prob and
loss passes: a prompt with a video part would be generated from with the video and trained on
without it. :class:`VideoGRPOTrainer` closes that gap by overriding three hooks:

* ``_tokenize_prompts``: each distinct prompt of the generation batch (a group's rows share one)
  is turned into model inputs once, by :func:`videossr.qwen_inputs.model_inputs` -- the function
  ``videossr eval --backend transformers`` uses (frames + ``sample_fps`` metadata,
  ``do_sample_frames=False``) -- and the group's rows share those tensors;
* ``_get_per_token_logps_and_entropies``: each chunk of rows gets its own videos and Qwen3-VL's
  ``mm_token_type_ids`` (the processor's rule on the prompt, 0 on the completion);
* ``_generate_and_score_completions`` / ``compute_loss``: the rows' videos ride in the buffered
  batch as per-row lists (TRL shuffles and splits lists row-wise), and are handed to the log-prob
  pass for the reference model and for the loss.

The dataset's ``prompt`` holds the video parts themselves (see
:func:`videossr.train.trl_data.trl_video_dataset`); frames are decoded here, per step.
"""

from __future__ import annotations

import functools
import json
from contextlib import contextmanager

from videossr.errors import UserError

SUPPORTED_TRL = ("1.16",)
"""TRL minor versions whose GRPOTrainer internals this subclass was written against and tested on."""


def check_trl_version(version: str) -> None:
    """UserError unless ``version`` is one of :data:`SUPPORTED_TRL` (the hooks are TRL internals)."""
    if ".".join(version.split(".")[:2]) not in SUPPORTED_TRL:
        raise UserError(f"video-token training supports TRL {', '.join(SUPPORTED_TRL)}.x (installed: {version}): "
                        f'pip install "trl=={SUPPORTED_TRL[-1]}.*", or train on frames as images with --video-as images')


@functools.lru_cache(maxsize=1)
def _trainer_class():
    import torch
    import trl
    from trl import GRPOTrainer

    check_trl_version(trl.__version__)

    class VideoGRPOTrainer(GRPOTrainer):
        """GRPOTrainer whose prompts carry Qwen3-VL videos into generation, log-probs and the loss."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._videos = None  # (pixel rows, grid rows) of the rows being scored, per row
            config = self.model.config
            # a sampled vision placeholder would not match the video features in the loss pass
            vision_tokens = sorted({getattr(config, name, None) for name in ("image_token_id", "video_token_id")} - {None})
            if not self.use_vllm:  # transformers generation (the route videossr runs)
                self.generation_kwargs["suppress_tokens"] = vision_tokens
                self.generation_config.suppress_tokens = vision_tokens
            self.video_inputs_calls = 0  # how many times a prompt's video went through the processor

        # -- prompts -> token ids + video tensors, once per distinct prompt ---------------------
        def _tokenize_prompts(self, prompts: list):
            from videossr.qwen_inputs import model_inputs

            if not any(_has_video(p) for p in prompts):
                return super()._tokenize_prompts(prompts)
            device = self.accelerator.device
            processed: dict[str, dict] = {}
            for prompt in prompts:
                key = json.dumps(prompt, sort_keys=True)
                if key not in processed:
                    inputs = model_inputs(self.processing_class, [prompt])
                    self.video_inputs_calls += 1
                    processed[key] = {
                        "ids": inputs["input_ids"][0].tolist(),
                        "pixels": inputs["pixel_values_videos"].to(device),
                        "grid": inputs["video_grid_thw"].to(device),
                        "mm": inputs["mm_token_type_ids"][0].tolist(),
                    }
            rows = [processed[json.dumps(p, sort_keys=True)] for p in prompts]
            self._videos = ([r["pixels"] for r in rows], [r["grid"] for r in rows])
            fields = {
                "pixel_values_videos": torch.cat(self._videos[0]),
                "video_grid_thw": torch.cat(self._videos[1]),
                "mm_token_type_ids": [r["mm"] for r in rows],  # per token: TRL left-pads it like the ids
            }
            return [r["ids"] for r in rows], None, fields

        def _generate_and_score_completions(self, inputs):
            try:
                output = super()._generate_and_score_completions(inputs)
                if self._videos is not None:
                    output["pixel_values_videos"], output["video_grid_thw"] = self._videos
            finally:
                self._videos = None
            return output

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            with self._rows_videos(inputs):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

        @contextmanager
        def _rows_videos(self, inputs):
            self._videos = (inputs["pixel_values_videos"], inputs["video_grid_thw"]) if "pixel_values_videos" in inputs else None
            try:
                yield
            finally:
                self._videos = None

        # -- log-probs with each row's video ---------------------------------------------------
        def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, batch_size=None,
                                               compute_entropy=False, compute_aux_loss=False, **image_fields):
            if self._videos is None:
                return super()._get_per_token_logps_and_entropies(model, input_ids, attention_mask, logits_to_keep, batch_size,
                                                                  compute_entropy, compute_aux_loss, **image_fields)
            pixel_rows, grid_rows = self._videos
            if len(pixel_rows) != input_ids.size(0):
                raise RuntimeError(f"{len(pixel_rows)} rows of video for {input_ids.size(0)} sequences")
            batch_size = batch_size or input_ids.size(0)
            logps, entropies, aux_losses = [], [], []
            for start in range(0, input_ids.size(0), batch_size):
                end = min(start + batch_size, input_ids.size(0))
                ids = input_ids[start:end]
                model_inputs = {
                    "input_ids": ids, "attention_mask": attention_mask[start:end],
                    "pixel_values_videos": torch.cat(pixel_rows[start:end]), "video_grid_thw": torch.cat(grid_rows[start:end]),
                    "mm_token_type_ids": self._mm_token_type_ids(ids, logits_to_keep),
                }
                if compute_aux_loss:
                    model_inputs["output_router_logits"] = True
                labels = ids.masked_fill(attention_mask[start:end] == 0, -100)
                labels[:, :-logits_to_keep] = -100  # only the completion is scored
                with self.accelerator.autocast():
                    outputs = model(**model_inputs, labels=labels, fused_lm_head=True)
                logps.append(outputs.log_probs[:, -logits_to_keep:])
                if compute_entropy:
                    entropies.append(outputs.entropy[:, -logits_to_keep:])
                if compute_aux_loss:
                    aux_losses.append(outputs.aux_loss)
            return (torch.cat(logps), torch.cat(entropies) if compute_entropy else None,
                    torch.stack(aux_losses).mean() if compute_aux_loss else None)

        def _mm_token_type_ids(self, ids, logits_to_keep: int):
            """The processor's modality ids on the prompt part, 0 (text) on the completion, as TRL extends them."""
            prompt = ids[:, :-logits_to_keep].tolist()
            types = torch.zeros_like(ids)
            types[:, :-logits_to_keep] = torch.tensor(self.processing_class.create_mm_token_type_ids(prompt), dtype=ids.dtype, device=ids.device)
            return types

    return VideoGRPOTrainer


def _has_video(prompt) -> bool:
    return isinstance(prompt, list) and any(
        isinstance(m.get("content"), list) and any(isinstance(p, dict) and p.get("type") == "video" for p in m["content"]) for m in prompt)


def video_grpo_trainer(**kwargs):
    """A :class:`VideoGRPOTrainer` (GRPOTrainer keyword arguments); UserError on an unsupported TRL."""
    return _trainer_class()(**kwargs)


def video_grpo_trainer_class():
    """The class itself (built on first use, so importing this module does not import TRL)."""
    return _trainer_class()
