"""A checkpoint's identity by content: what the response cache and resume key a local model on.

:func:`checkpoint_digest` reads a checkpoint folder cheaply, even for 16 GB of weights:

The folder's own files count (what ``from_pretrained`` reads), not its subfolders (e.g. a
trainer's ``checkpoint-500/``):

* the config, generation config, processor, tokenizer and chat-template files: their full bytes;
* each weights file (``*.safetensors``, ``*.bin``, ``*.pt``, ``*.pth``): its size; for safetensors
  its header (tensor names, dtypes, shapes, offsets) and for every file 16 blocks of 64 KiB spread
  evenly over it (about 1 MiB read per file); the weights index (``*.index.json``) in full.

Training moves every weight, so a model retrained into the same folder reads other bytes in the
sampled blocks and gets another digest; copying or moving the folder keeps it (no paths, no
mtimes). A hub name that is not a local folder is keyed by its resolved snapshot folder when the
hub cache holds it, else by the commit the loaded config names.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
SAMPLED_BLOCKS, BLOCK_BYTES = 16, 64 * 1024
_MAX_SMALL_FILE = 64 * 1024 * 1024  # non-weight files larger than this are sampled like weights


def _sampled(fh, size: int, digest) -> None:
    if size <= SAMPLED_BLOCKS * BLOCK_BYTES:
        digest.update(fh.read())
        return
    step = (size - BLOCK_BYTES) / (SAMPLED_BLOCKS - 1)
    for block in range(SAMPLED_BLOCKS):
        fh.seek(int(block * step))
        digest.update(fh.read(BLOCK_BYTES))


def _weights(path: Path, size: int, digest) -> None:
    with open(path, "rb") as fh:
        if path.suffix == ".safetensors" and size >= 8:
            (header_len,) = struct.unpack("<Q", fh.read(8))
            if header_len <= min(size - 8, 100 * 1024 * 1024):
                digest.update(fh.read(header_len))
        fh.seek(0)
        _sampled(fh, size, digest)


def checkpoint_digest(folder: str | os.PathLike) -> str:
    """A hex digest of a checkpoint folder's content (see the module docstring)."""
    root = Path(folder)
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        size = path.stat().st_size
        digest.update(f"\0{path.name}\0{size}\0".encode("utf-8", "surrogateescape"))
        if path.suffix in WEIGHT_SUFFIXES or size > _MAX_SMALL_FILE:
            _weights(path, size, digest)
        else:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def model_identity(name_or_path: str, commit: str | None = None) -> dict:
    """``{"model": name, "content": digest}`` for a local folder (or a cached hub snapshot);
    ``{"model": name, "commit": ...}`` when only the hub commit is known."""
    folder = Path(name_or_path)
    if not folder.is_dir():
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(name_or_path, local_files_only=True))
        except Exception:  # noqa: BLE001 - not in the hub cache: key by the commit below
            folder = None
    if folder is not None and folder.is_dir():
        return {"model": str(name_or_path), "content": checkpoint_digest(folder)}
    return {"model": str(name_or_path), "commit": commit}
