"""A tiny, randomly initialised Qwen3-VL (tokenizer, processor, model), built fully offline.

Not a test module: tests import it (``from tiny_qwen import ...`` with ``tests/`` on ``sys.path``,
which pytest's default rootdir-relative import mode gives, or ``from tests.tiny_qwen import ...``).
Nothing is downloaded: the tokenizer is a byte-level BPE trained in memory on :data:`CORPUS`, the
processors are configured by hand, and the model has random (seeded) weights. Everything is
small enough that forward passes, ``generate`` and training steps run on a CPU in seconds; the
outputs are meaningless, only the shapes, token layout and plumbing are real.

What mirrors the real Qwen3-VL checkpoints (so that pipeline code meets the same behaviour):

* the special tokens and their roles: ``<|im_start|>``/``<|im_end|>`` chat turns, ``<|im_end|>``
  as eos, ``<|endoftext|>`` as pad, ``<|vision_start|>``/``<|vision_end|>`` around
  ``<|image_pad|>``/``<|video_pad|>`` placeholders (see :data:`SPECIAL_TOKENS`);
* a Qwen-style chat template (:data:`CHAT_TEMPLATE`) that detects media parts the same way the
  Qwen3-VL template does (``type == 'video' or 'video' in part``), so pitfalls of the real one
  show up here too;
* ``Qwen3VLProcessor`` = ``Qwen2VLImageProcessor`` + ``Qwen3VLVideoProcessor`` with patch size
  16, temporal patch 2, merge size 2, mean/std 0.5 and the pixel budgets of the Qwen3-VL
  checkpoints' ``preprocessor_config.json`` / ``video_preprocessor_config.json``
  (:data:`IMAGE_SIZE`, :data:`VIDEO_SIZE`), so the processor writes ``<t seconds>`` timestamps
  and does not re-resize frames that qwen-vl-utils already fitted into a row's max_pixels;
* ``Qwen3VLForConditionalGeneration`` with M-RoPE (3-element interleaved ``mrope_section``) and
  deepstack visual features, only shrunk (2 text layers of width 64, 2 vision layers).

Entry points:

* :func:`build_tiny_tokenizer` -- the ``PreTrainedTokenizerFast`` (cached; do not mutate);
* :func:`build_tiny_processor` -- saves the processor to a folder and reloads it with
  ``AutoProcessor.from_pretrained`` (the path verl's ``hf_processor`` takes);
* :func:`build_tiny_model` -- a fresh ``Qwen3VLForConditionalGeneration`` (seeded, eval mode);
* :func:`save_tiny_checkpoint` -- processor + model in one folder, loadable by path like a hub
  checkpoint (``AutoProcessor`` / ``AutoModelForImageTextToText`` / verl's ``model.path``);
* :func:`tiny_checkpoint_dir` -- that folder, built once per process (a temp dir removed at exit).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
"""Qwen's special tokens; the BPE trainer gives them ids 0..6 in this order."""

PATCH_SIZE, TEMPORAL_PATCH_SIZE, MERGE_SIZE = 16, 2, 2

IMAGE_SIZE = {"shortest_edge": 65536, "longest_edge": 16777216}
"""Qwen3-VL ``preprocessor_config.json`` pixel budget per image (min, max pixels)."""

VIDEO_SIZE = {"shortest_edge": 4096, "longest_edge": 25165824}
"""Qwen3-VL ``video_preprocessor_config.json`` budget, counted over frames x height x width."""

BPE_VOCAB_SIZE = 600
SEED = 0

CORPUS = """\
You are a careful video analyst. Watch the video and reply with the final answer only.
Answer with the clip numbers in play order, for example 654321.
The clips above are consecutive parts of one video, cut into equal lengths and shuffled.
In which time span, in seconds, does the video look different from the rest?
How many objects moved across the frame? Reply with a single number.
The frames between 12.3 and 20.5 seconds are mirrored, rotated, zoomed out or have swapped colours.
system user assistant video image clip frame second seconds answer question order count
0 1 2 3 4 5 6 7 8 9 10 11 12 0.5 1.0 2.5 12.3-20.5 3,1,4 315264
"""
"""Training text of the tiny BPE (any text tokenizes: byte-level fallback covers every byte)."""

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string %}"
    "{{- message['content'] }}"
    "{%- else %}"
    "{%- for part in message['content'] %}"
    "{%- if part['type'] == 'image' or 'image' in part or 'image_url' in part %}"
    "{{- '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{%- elif part['type'] == 'video' or 'video' in part %}"
    "{{- '<|vision_start|><|video_pad|><|vision_end|>' }}"
    "{%- elif 'text' in part %}"
    "{{- part['text'] }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- endif %}"
)
"""Qwen ChatML with the Qwen3-VL template's media tests; string or list-of-parts content."""


@functools.lru_cache(maxsize=1)
def build_tiny_tokenizer():
    """The tiny byte-level BPE tokenizer as a ``PreTrainedTokenizerFast`` (built once, shared)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=BPE_VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS.splitlines(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
        chat_template=CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
        model_max_length=262144,
        padding_side="left",
    )
    for i, token in enumerate(SPECIAL_TOKENS):
        assert tokenizer.convert_tokens_to_ids(token) == i, (token, tokenizer.convert_tokens_to_ids(token))
    return tokenizer


def _make_processor():
    from transformers import Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    common = dict(
        patch_size=PATCH_SIZE, temporal_patch_size=TEMPORAL_PATCH_SIZE, merge_size=MERGE_SIZE,
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    )
    image_processor = Qwen2VLImageProcessor(size=dict(IMAGE_SIZE), **common)
    video_processor = Qwen3VLVideoProcessor(size=dict(VIDEO_SIZE), fps=2, min_frames=4, max_frames=768, **common)
    return Qwen3VLProcessor(
        image_processor=image_processor, tokenizer=build_tiny_tokenizer(), video_processor=video_processor,
        chat_template=CHAT_TEMPLATE,
    )


def build_tiny_processor(tmpdir):
    """Save the tiny ``Qwen3VLProcessor`` under ``tmpdir`` and return it reloaded by ``AutoProcessor``.

    The reload is the point: it is how verl (``verl.utils.hf_processor``) and evaluation code
    get a processor, so every setting must survive ``save_pretrained``.
    """
    from transformers import AutoProcessor

    path = Path(tmpdir)
    path.mkdir(parents=True, exist_ok=True)
    _make_processor().save_pretrained(path)
    return AutoProcessor.from_pretrained(path)


def tiny_config(vocab_size: int | None = None):
    """The ``Qwen3VLConfig`` of the tiny model (token ids taken from :data:`SPECIAL_TOKENS`)."""
    from transformers import Qwen3VLConfig

    tokenizer = build_tiny_tokenizer()
    ids = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    text_config = dict(
        vocab_size=vocab_size or len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=32768,
        rope_parameters={"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [2, 3, 3], "mrope_interleaved": True},
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
    )
    vision_config = dict(
        depth=2,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        patch_size=PATCH_SIZE,
        temporal_patch_size=TEMPORAL_PATCH_SIZE,
        spatial_merge_size=MERGE_SIZE,
        out_hidden_size=64,
        num_position_embeddings=256,
        deepstack_visual_indexes=[1],
    )
    return Qwen3VLConfig(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )


def build_tiny_model(seed: int = SEED):
    """A fresh tiny ``Qwen3VLForConditionalGeneration`` on CPU, float32, eval mode, seeded weights."""
    import torch
    from transformers import Qwen3VLForConditionalGeneration

    config = tiny_config()
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        model = Qwen3VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = config.text_config.pad_token_id
    return model.eval()


def save_tiny_checkpoint(path, seed: int = SEED) -> Path:
    """Write processor, tokenizer, config and random weights to ``path`` (an HF checkpoint folder)."""
    path = Path(path)
    build_tiny_processor(path)
    build_tiny_model(seed).save_pretrained(path)
    return path


@functools.lru_cache(maxsize=1)
def tiny_checkpoint_dir() -> Path:
    """:func:`save_tiny_checkpoint` into a temp folder, once per process (removed at exit)."""
    path = Path(tempfile.mkdtemp(prefix="tiny-qwen3vl-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return save_tiny_checkpoint(path)
