"""lmms-eval task folder for a VIUBench folder: ``lmms_eval --include_path DIR --tasks viubench``.

``export_lmms_eval(bench, out)`` writes::

    DIR/_viubench.yaml                  group ``viubench``: the 9 subset tasks, Overall = unweighted mean
    DIR/_viubench_base.yaml             shared settings (included by every task)
    DIR/viubench_<subset>.yaml          one task per subset (``viubench_counting_easy``, ...)
    DIR/data/<subset>.jsonl             the docs: one item per line, absolute paths into BENCH
    DIR/utils.py                        three-line shim onto this module (needs videossr importable)

Each doc's videos are the evaluation export's mp4 files (``BENCH/eval/videos``: frame i at
i / sample_fps seconds, so a decoder that reads the mp4 timestamps sees the answer's time
axis; jigsaw items have one mp4 per clip, shown as "Clip 1: <video> Clip 2: ..."). The docs
also carry the frame lists and ``sample_fps`` for models that take frames. ``process_results``
scores with videossr's own scorer (metric ``viubench``, a fraction in [0, 1] per item; the
group mean is Overall). Greedy decoding, 128 new tokens (the paper's setting).

The functions below (``doc_to_messages`` ...) are what the generated ``utils.py`` exposes to
lmms-eval; they are plain functions over a doc dict and need nothing from lmms-eval.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from videossr import atomic
from videossr.errors import UserError
from videossr.prompt_parts import interleave
from videossr.viubench.items import check_version, load_items
from videossr.viubench.scorer import METRIC, score_answer
from videossr.viubench.subsets import BENCH_VERSION, SUBSETS

GROUP = "viubench"
MAX_NEW_TOKENS = 128

UTILS_PY = '''"""lmms-eval hooks for VIUBench; the logic lives in videossr (pip install videossr)."""
from videossr.viubench.lmms_eval import doc_to_messages, doc_to_target, doc_to_text, doc_to_visual, process_results  # noqa: F401
'''


def task_name(subset: str) -> str:
    return f"{GROUP}_{subset}"


def _yaml(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def _base_yaml() -> str:
    return _yaml([
        f"# VIUBench {BENCH_VERSION} (written by videossr viubench export-lmms-eval)",
        "dataset_path: json",
        "test_split: test",
        "output_type: generate_until",
        "doc_to_messages: !function utils.doc_to_messages",
        "doc_to_visual: !function utils.doc_to_visual",
        "doc_to_text: !function utils.doc_to_text",
        "doc_to_target: !function utils.doc_to_target",
        "process_results: !function utils.process_results",
        "metric_list:",
        f"  - metric: {METRIC}",
        "    aggregation: mean",
        "    higher_is_better: true",
        "generation_kwargs:",
        f"  max_new_tokens: {MAX_NEW_TOKENS}",
        "  temperature: 0",
        "  do_sample: false",
        "metadata:",
        f"  version: {BENCH_VERSION.split('-')[-1]}",
        f"  viubench_version: {BENCH_VERSION}",
    ])


def _task_yaml(subset: str, data_file: Path) -> str:
    return _yaml([
        "include: _viubench_base.yaml",
        f"task: {task_name(subset)}",
        "dataset_kwargs:",
        "  data_files:",
        f"    test: {json.dumps(str(data_file))}",
    ])


def _group_yaml() -> str:
    return _yaml([
        f"group: {GROUP}",
        "task:", *(f"  - {task_name(s)}" for s in SUBSETS),
        "aggregate_metric_list:",
        f"  - metric: {METRIC}",
        "    aggregation: mean",
        "    weight_by_size: false   # Overall = unweighted mean of the 9 subsets",
        "metadata:",
        f"  version: {BENCH_VERSION.split('-')[-1]}",
    ])


def _doc(item) -> dict:
    if not item.eval_files:
        raise UserError(f"item {item.id} has no mp4 files: build the benchmark with its evaluation export (videossr viubench build)")
    return {
        "viubench_version": BENCH_VERSION, "id": item.id, "subset": item.subset, "task": item.task, "data_source": item.data_source,
        "system_prompt": item.system_prompt, "user": item.user, "question": item.question, "answer": item.answer,
        "videos": list(item.eval_files), "frames": [list(c) for c in item.clips], "sample_fps": item.sample_fps,
    }


def export_lmms_eval(bench_dir: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write the lmms-eval task folder for ``bench_dir`` into ``out``; returns the group YAML path."""
    from videossr.outputs import claim_output

    items = load_items(bench_dir)
    out = Path(out)
    claim_output(None, out, kind="lmms-eval-tasks")
    data = out.resolve() / "data"
    for subset in SUBSETS:
        atomic.write_jsonl(data / f"{subset}.jsonl", [_doc(i) for i in items if i.subset == subset])
        atomic.write_text(out / f"{task_name(subset)}.yaml", _task_yaml(subset, data / f"{subset}.jsonl"))
    atomic.write_text(out / "_viubench_base.yaml", _base_yaml())
    atomic.write_text(out / "utils.py", UTILS_PY)
    return atomic.write_text(out / "_viubench.yaml", _group_yaml())


# ----------------------------------------------------------------------------- lmms-eval hooks


def _check(doc: dict) -> None:
    check_version(doc.get("viubench_version"), f"lmms-eval doc {doc.get('id')!r}")


def doc_to_messages(doc: dict, lmms_eval_specific_kwargs: dict | None = None) -> list[dict]:
    """System prompt + the user turn: text pieces and one video part per clip, in order."""
    _check(doc)
    parts = interleave(doc["user"], [{"type": "video", "url": url} for url in doc["videos"]])
    content = [{"type": "text", "text": p} if isinstance(p, str) else p for p in parts]
    return [{"role": "system", "content": [{"type": "text", "text": doc["system_prompt"]}]}, {"role": "user", "content": content}]


def doc_to_visual(doc: dict) -> list[str]:
    """The item's mp4 files (simple-model path)."""
    return list(doc["videos"])


def doc_to_text(doc: dict, lmms_eval_specific_kwargs: dict | None = None) -> str:
    """The question (simple models put the videos first; a jigsaw's question names them Clip 1..n in that order)."""
    return doc["question"]


def doc_to_target(doc: dict) -> str:
    return doc["answer"]


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    """``{"viubench": metric}`` for the first result, scored by videossr's VIUBench scorer."""
    _check(doc)
    response = results[0] if results else None
    return {METRIC: score_answer(doc["data_source"], doc["answer"], response)}
