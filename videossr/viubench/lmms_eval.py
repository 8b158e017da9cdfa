"""lmms-eval task folder for a VIUBench folder: ``lmms_eval --include_path DIR --tasks viubench``.

``export_lmms_eval(bench, out)`` writes a self-contained folder (every path in it is relative to
``DIR``, so the folder can be moved, copied or shared)::

    DIR/_viubench.yaml                  group ``viubench``: the 9 subset tasks, Overall = unweighted mean
    DIR/_viubench_base.yaml             shared settings (included by every task)
    DIR/viubench_<subset>.yaml          one task per subset; ``data_files`` relative to DIR
    DIR/data/<subset>.jsonl             the docs, one item per line, video paths relative to DIR
    DIR/videos/...                      the bench's evaluation mp4s (hard links where possible, else copies)
    DIR/utils.py                        a shim onto this module (needs videossr importable)
    DIR/README.md                       the lmms-eval command line for each verified model class

Each mp4 holds an item's frames at ``sample_fps`` (frame i at i / sample_fps s, the answer's time
axis); a jigsaw item has one mp4 per clip, shown as "Clip 1: <video> Clip 2: ...". lmms-eval
0.7.3 resolves relative ``data_files`` against the YAML's folder; ``process_docs`` makes the
docs' video paths absolute under ``DIR`` (refusing any that leave it).

How an item reaches each model class (lmms-eval 0.7.3; ``lmms_eval_specific_kwargs`` select the
rendering by ``--model`` name, :data:`STYLES`):

* ``qwen3_vl`` (chat path, the default): the class prepends its own ``system_prompt`` model
  argument and gives every video the same qwen-vl-utils settings from its model arguments. So
  the docs carry no system message for it, and :func:`model_args` passes the bench's system
  prompt, ``fps`` far above any mp4's frame rate with ``max_num_frames`` = the most frames of any
  video (qwen-vl-utils then keeps every frame of every mp4: 48, or all 6 / 8 of a jigsaw clip)
  and the bench's ``min_pixels`` / ``max_pixels``. Timestamps come from the mp4's own frame rate.
* ``qwen3_vl --force_simple``: the same model arguments plus ``interleave_visuals=True``;
  ``doc_to_text`` writes ``<image k>`` where video k goes, so the clip labels stay in place.
* ``openai`` (chat path): each video is sent as its frames, decoded from the mp4, each an image
  preceded by its ``<t seconds>`` text (as ``videossr eval --video-mode frames`` sends them), so
  the class's own frame sampling (10 frames, no timestamps) is never used.

The functions below (``doc_to_messages`` ...) are what the generated ``utils.py`` exposes to
lmms-eval; they are plain functions over a doc dict and need nothing from lmms-eval.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
from pathlib import Path

from videossr import atomic
from videossr.errors import UserError
from videossr.prompt_parts import VIDEO_TOKEN, interleave, timestamp_text
from videossr.viubench.items import ConfinedPaths, check_version, load_items
from videossr.viubench.scorer import METRIC, score_answer
from videossr.viubench.subsets import BENCH_VERSION, SUBSETS

GROUP = "viubench"
MAX_NEW_TOKENS = 128
DATA_DIR, VIDEOS_DIR = "data", "videos"
EVERY_FRAME_FPS = 1000  # qwen-vl-utils keeps min(frames * fps / video fps, max_frames, frames) frames: at or above every mp4's rate, all

# How doc_to_messages / doc_to_text render an item for each lmms-eval --model name:
# system "doc" = our system message in the messages, "model" = the class adds it (from --model_args);
# visual "video" = one video part per clip (its mp4), "frames" = each frame as an image after its <t seconds>;
# placeholders: doc_to_text marks video k as "<image k>" (qwen3_vl --force_simple with interleave_visuals=True).
STYLES = {
    "default": {"system": "doc", "visual": "video", "placeholders": False},
    "qwen3_vl": {"system": "model", "visual": "video", "placeholders": True},
    **dict.fromkeys(("openai", "openai_compatible", "openai_compatible_chat"), {"system": "doc", "visual": "frames", "placeholders": False}),
}

UTILS_PY = '''"""lmms-eval hooks for VIUBench; the logic lives in videossr (pip install videossr)."""
from pathlib import Path

from videossr.viubench import lmms_eval as _viubench
from videossr.viubench.lmms_eval import doc_to_messages, doc_to_target, doc_to_text, doc_to_visual, process_results  # noqa: F401


def process_docs(dataset):
    """The docs with their video paths made absolute under this folder (refusing any that leave it)."""
    return _viubench.process_docs(dataset, Path(__file__).resolve().parent)
'''


def task_name(subset: str) -> str:
    return f"{GROUP}_{subset}"


def _yaml(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def _flow(style: dict) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in style.items()) + "}"


def _base_yaml() -> str:
    return _yaml([
        f"# VIUBench {BENCH_VERSION} (written by videossr viubench export-lmms-eval)",
        "dataset_path: json",
        "test_split: test",
        "output_type: generate_until",
        "process_docs: !function utils.process_docs",
        "doc_to_messages: !function utils.doc_to_messages",
        "doc_to_visual: !function utils.doc_to_visual",
        "doc_to_text: !function utils.doc_to_text",
        "doc_to_target: !function utils.doc_to_target",
        "process_results: !function utils.process_results",
        "lmms_eval_specific_kwargs:  # selected by --model name (videossr.viubench.lmms_eval.STYLES)",
        *(f"  {name}: {_flow(style)}" for name, style in STYLES.items()),
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


def _task_yaml(subset: str) -> str:
    return _yaml([
        "include: _viubench_base.yaml",
        f"task: {task_name(subset)}",
        "dataset_kwargs:",
        "  data_files:",
        f"    test: {DATA_DIR}/{subset}.jsonl  # relative to this file's folder",
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


def _video_name(bench_root: Path, eval_file: str) -> str:
    """``videos/<id>.mp4`` (``videos/<id>/clip_k.mp4``) for an evaluation mp4 of the bench."""
    return Path(VIDEOS_DIR, Path(eval_file).relative_to(bench_root / "eval" / "videos")).as_posix()


def _doc(item, bench_root: Path) -> dict:
    if not item.eval_files:
        raise UserError(f"item {item.id} has no mp4 files: build the benchmark with its evaluation export (videossr viubench build)")
    return {
        "viubench_version": BENCH_VERSION, "id": item.id, "subset": item.subset, "task": item.task, "data_source": item.data_source,
        "system_prompt": item.system_prompt, "user": item.user, "question": item.question, "answer": item.answer,
        "videos": [_video_name(bench_root, f) for f in item.eval_files], "frame_counts": [len(c) for c in item.clips],
        "sample_fps": item.sample_fps, "max_pixels": item.max_pixels,
    }


def _link_or_copy(source: str, target: Path) -> None:
    """``target`` becomes a hard link to ``source`` (a copy across file systems), atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(atomic.TMP_PREFIX + target.name)
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def model_args(items) -> dict[str, str]:
    """The ``--model_args`` (after ``pretrained=`` / ``model=``) that keep each verified class faithful
    to the bench: {"qwen3_vl": ..., "qwen3_vl --force_simple": ..., "openai": ...}. UserError when
    the bench's settings cannot be expressed there (a system prompt with a comma, mixed pixel limits)."""
    prompts = {i.system_prompt for i in items}
    pixels = {(i.min_pixels, i.max_pixels) for i in items}
    if len(prompts) != 1 or len(pixels) != 1:
        raise UserError("the bench's items differ in system prompt or pixel limits; lmms-eval's qwen3_vl takes one of each for all items")
    (prompt,), ((min_pixels, max_pixels),) = prompts, pixels
    if "," in prompt:
        raise UserError(f"the bench's system prompt has a comma, which lmms-eval's --model_args cannot carry: {prompt[:80]!r}")
    fastest = max(i.sample_fps for i in items)  # every mp4 of an item runs at its sample_fps
    if fastest >= EVERY_FRAME_FPS:
        raise UserError(f"an item's mp4s run at {fastest:.0f} fps; the qwen3_vl settings keep every frame only below {EVERY_FRAME_FPS} fps")
    frames = max(len(c) for i in items for c in i.clips)
    qwen = f"max_num_frames={frames},fps={EVERY_FRAME_FPS},min_pixels={min_pixels},max_pixels={max_pixels},system_prompt={prompt}"
    return {"qwen3_vl": qwen, "qwen3_vl --force_simple": qwen + ",interleave_visuals=True", "openai": "base_url=http://localhost:8000/v1"}


def command_lines(folder: str, items) -> dict[str, str]:
    """One ``lmms_eval`` command per verified model class for the task folder ``folder`` (MODEL stands
    for the model to test)."""
    args = model_args(items)
    head = f"python -m lmms_eval --include_path {shlex.quote(folder)} --tasks {GROUP}"
    return {
        "qwen3_vl": f"{head} --model qwen3_vl --model_args {shlex.quote('pretrained=MODEL,' + args['qwen3_vl'])}",
        "qwen3_vl --force_simple": f"{head} --model qwen3_vl --force_simple --model_args {shlex.quote('pretrained=MODEL,' + args['qwen3_vl --force_simple'])}",
        "openai": f"{head} --model openai --model_args {shlex.quote('model=MODEL,' + args['openai'])}",
    }


def _readme(items) -> str:
    lines = [f"# VIUBench {BENCH_VERSION} for lmms-eval", "", "Written by `videossr viubench export-lmms-eval`; videossr must be importable where lmms-eval runs.",
             "DIR is this folder (every path in it is relative, so it may be moved); MODEL is the model to test.", ""]
    for name, line in command_lines("DIR", items).items():
        lines += [f"{name}:", "", "    " + line, ""]
    return "\n".join(lines)


def export_lmms_eval(bench_dir: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write the lmms-eval task folder for ``bench_dir`` into ``out``; returns the group YAML path."""
    from videossr.outputs import claim_output

    items = load_items(bench_dir)
    bench_root = Path(bench_dir).resolve()
    out = Path(out)
    claim_output(None, out, kind="lmms-eval-tasks")
    model_args(items)  # refuse a bench the model classes cannot be given faithfully, before writing
    for item in items:
        for source in item.eval_files:
            _link_or_copy(source, out / _video_name(bench_root, source))
    for subset in SUBSETS:
        atomic.write_jsonl(out / DATA_DIR / f"{subset}.jsonl", [_doc(i, bench_root) for i in items if i.subset == subset])
        atomic.write_text(out / f"{task_name(subset)}.yaml", _task_yaml(subset))
    atomic.write_text(out / "_viubench_base.yaml", _base_yaml())
    atomic.write_text(out / "utils.py", UTILS_PY)
    atomic.write_text(out / "README.md", _readme(items))
    return atomic.write_text(out / "_viubench.yaml", _group_yaml())


# ----------------------------------------------------------------------------- lmms-eval hooks


def _check(doc: dict) -> None:
    check_version(doc.get("viubench_version"), f"lmms-eval doc {doc.get('id')!r}")


def _style(lmms_eval_specific_kwargs: dict | None) -> dict:
    kwargs = lmms_eval_specific_kwargs or {}
    return {key: kwargs.get(key, value) for key, value in STYLES["default"].items()}


def absolute_doc(doc: dict, root: Path) -> dict:
    """``doc`` with its video paths absolute under ``root`` (UserError for one that leaves it)."""
    confined = ConfinedPaths(root, "the lmms-eval task folder")
    return {**doc, "videos": [confined(v, f"lmms-eval doc {doc.get('id')!r}") for v in doc["videos"]]}


def process_docs(dataset, root: Path):
    """lmms-eval's ``process_docs``: every doc of a ``datasets.Dataset`` through :func:`absolute_doc`."""
    root = Path(root).resolve()
    return dataset.map(lambda doc: {"videos": absolute_doc(doc, root)["videos"]}, load_from_cache_file=False)


def _frames(path: str, sample_fps: float, max_pixels: int | None) -> list[dict]:
    """An mp4's frames as image parts, each after its ``<t seconds>`` text (frame i at i / sample_fps)."""
    import av
    from PIL import Image

    parts = []
    with av.open(path) as container:
        for i, frame in enumerate(container.decode(video=0)):
            image = frame.to_image()
            if max_pixels and image.width * image.height > max_pixels:
                scale = math.sqrt(max_pixels / (image.width * image.height))
                image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))), Image.BICUBIC)
            parts += [{"type": "text", "text": timestamp_text(i / sample_fps)}, {"type": "image", "url": image}]
    return parts


def doc_to_messages(doc: dict, lmms_eval_specific_kwargs: dict | None = None) -> list[dict]:
    """The user turn (text pieces and each clip at its ``<video>``), after our system message unless the
    model class adds the system prompt itself (see :data:`STYLES`)."""
    _check(doc)
    style = _style(lmms_eval_specific_kwargs)
    if style["visual"] == "frames":
        clips = [_frames(url, doc["sample_fps"], doc.get("max_pixels")) for url in doc["videos"]]
    else:
        clips = [[{"type": "video", "url": url}] for url in doc["videos"]]
    content = []
    for part in interleave(doc["user"], clips):
        content += [{"type": "text", "text": part}] if isinstance(part, str) else part
    system = [{"role": "system", "content": [{"type": "text", "text": doc["system_prompt"]}]}] if style["system"] == "doc" else []
    return system + [{"role": "user", "content": content}]


def doc_to_visual(doc: dict) -> list[str]:
    """The item's mp4 files (simple-model path)."""
    return list(doc["videos"])


def doc_to_text(doc: dict, lmms_eval_specific_kwargs: dict | None = None) -> str:
    """The user text with video k marked ``<image k>`` where the style asks for placeholders (qwen3_vl
    --force_simple, interleave_visuals=True puts each video there); else the question alone."""
    if not _style(lmms_eval_specific_kwargs)["placeholders"]:
        return doc["question"]
    pieces = doc["user"].split(VIDEO_TOKEN)
    return pieces[0] + "".join(f"<image {k}>{piece}" for k, piece in enumerate(pieces[1:], 1))


def doc_to_target(doc: dict) -> str:
    return doc["answer"]


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    """``{"viubench": metric}`` for the first result, scored by videossr's VIUBench scorer."""
    _check(doc)
    response = results[0] if results else None
    return {METRIC: score_answer(doc["data_source"], doc["answer"], response)}
