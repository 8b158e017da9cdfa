"""Evaluation throughput: openai backend items/s against concurrency, transformers batched vs one at a time.

    python benchmarks/bench_eval.py [--items 32] [--delay 0.25] [--concurrency 1,2,4,8,16]
                                    [--tiny-items 16] [--batch-sizes 1,4,8] [--model CHECKPOINT] [--json out.json]

1. openai backend: a local OpenAI-compatible server that answers every request after a fixed
   delay (tests/eval_fake_server.py, threaded, so it never queues) receives ``--items`` real
   requests (frames of the built-in clips as a vLLM ``video_url``); items/s per concurrency,
   side by side with the ideal ``concurrency / delay``. Shows that requests overlap.
2. transformers backend: ``--tiny-items`` requests of the same clips through the offline tiny
   Qwen3-VL (tests/tiny_qwen.py) or ``--model``, greedy, 16 new tokens, per batch size; items/s
   and the ratio to batch size 1, with a check that every batch size gives the same outputs.

No response cache is used (each measurement asks the backend for every item).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from videossr.backends import get_backend  # noqa: E402
from videossr.demo import sample_videos_dir  # noqa: E402
from videossr.evaluate import load_target  # noqa: E402


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _requests(work: Path, count: int) -> list:
    """``count`` real requests: the 8 VQA questions over the 4 built-in clips, repeated with distinct wording."""
    from eval_helpers import write_vqa_json

    target = load_target(write_vqa_json(work / "vqa.json"), video_dir=sample_videos_dir(), work_dir=work / "frames")
    base = [item.request for item in target.items]
    from dataclasses import replace

    return [replace(base[i % len(base)], parts=base[i % len(base)].parts + (f" (variant {i})",)) for i in range(count)]


def bench_openai(requests: list, delay_s: float, concurrencies: list[int]) -> list[dict]:
    from eval_fake_server import FakeChatServer

    rows = []
    for concurrency in concurrencies:
        server = FakeChatServer(delay_s=delay_s).start()
        try:
            backend = get_backend("openai", base_url=server.url, model="fake-model", concurrency=concurrency, video_mode="video", api_key="bench")
            began = time.perf_counter()
            results = backend.generate(requests)
            seconds = time.perf_counter() - began
            backend.close()
        finally:
            server.stop()
        assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
        rows.append({"concurrency": concurrency, "items": len(requests), "seconds": round(seconds, 3), "items_per_s": round(len(requests) / seconds, 2),
                     "ideal_items_per_s": round(concurrency / delay_s, 2)})
        print(f"openai  concurrency {concurrency:>3}: {len(requests) / seconds:7.2f} items/s (ideal {concurrency / delay_s:6.2f}), {seconds:6.2f} s", flush=True)
    return rows


def bench_transformers(requests: list, batch_sizes: list[int], model: str | None, max_pixels: int) -> list[dict]:
    if model is None:
        from tiny_qwen import tiny_checkpoint_dir

        model = str(tiny_checkpoint_dir())
    rows, reference = [], None
    for batch_size in batch_sizes:
        backend = get_backend("transformers", model=model, batch_size=batch_size, max_pixels=max_pixels)
        backend.generate(requests[:1], max_tokens=4)  # warm-up (lazy init, kernels)
        began = time.perf_counter()
        results = backend.generate(requests, max_tokens=16)
        seconds = time.perf_counter() - began
        texts = [r.texts for r in results]
        reference = reference or texts
        rows.append({"batch_size": batch_size, "items": len(requests), "seconds": round(seconds, 3), "items_per_s": round(len(requests) / seconds, 3),
                     "same_outputs_as_first": texts == reference})
        backend.close()
    base = rows[0]["items_per_s"]
    for row in rows:
        row["speedup"] = round(row["items_per_s"] / base, 2)
        print(f"transformers batch {row['batch_size']:>3}: {row['items_per_s']:7.3f} items/s  x{row['speedup']:.2f}  same outputs: {row['same_outputs_as_first']}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=32, help="requests for the openai benchmark (default %(default)s)")
    parser.add_argument("--delay", type=float, default=0.25, help="server seconds per request (default %(default)s)")
    parser.add_argument("--concurrency", type=_ints, default=[1, 2, 4, 8, 16], help="comma-separated (default 1,2,4,8,16)")
    parser.add_argument("--tiny-items", type=int, default=16, help="requests for the transformers benchmark (default %(default)s)")
    parser.add_argument("--batch-sizes", type=_ints, default=[1, 4, 8], help="comma-separated (default 1,4,8)")
    parser.add_argument("--model", help="checkpoint for the transformers benchmark (default: the offline tiny Qwen3-VL)")
    parser.add_argument("--max-pixels", type=int, default=128 * 128, help="per-frame pixels for the transformers benchmark (default %(default)s)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        requests = _requests(Path(tmp), max(args.items, args.tiny_items))
        results = {"openai": bench_openai(requests[: args.items], args.delay, args.concurrency),
                   "transformers": bench_transformers(requests[: args.tiny_items], args.batch_sizes, args.model, args.max_pixels)}
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
