#!/usr/bin/env bash
# GPU check of the TRL video route and the transformers eval backend; figures in OUTDIR/gpu_check.json.
#   benchmarks/gpu_check.sh OUTDIR          Qwen3-VL-8B-sized random weights on one GPU (< 8 min on an H200)
#   benchmarks/gpu_check.sh --tiny OUTDIR   the tiny offline model on CPU (checks the script itself)
# Installs nothing: run it with a Python that has videossr's train + eval extras (see benchmarks/README.md);
# PYTHON=/path/to/python picks the interpreter (default: python3 on PATH).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
exec "${PYTHON:-python3}" "$root/benchmarks/gpu_check.py" "$@"
