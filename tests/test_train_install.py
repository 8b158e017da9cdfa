"""The verl GPU environment the project declares has what verl 0.9.1's FSDP + vLLM route imports.

Read from the installed verl's own metadata and source: its FSDP actor loads models with
``attn_implementation="flash_attention_2"`` unless overridden, flash-attn and liger-kernel come only
with its ``fsdp`` extra, vLLM with its ``vllm`` extra; and ``verl[fsdp]`` pins a TRL that the TRL
route's extra excludes, so the two routes need separate environments.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _extras() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {name: [Requirement(r) for r in reqs] for name, reqs in project["optional-dependencies"].items()}


def _verl_extra_packages(extras: set[str]) -> set[str]:
    """Package names verl's metadata pulls in for ``extras``, following verl[...] self-references."""
    requirements = [Requirement(r) for r in importlib.metadata.requires("verl") or []]
    names, todo, seen = set(), list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in requirements:
            if req.marker is None or not req.marker.evaluate({"extra": extra}):
                continue
            if req.name == "verl":
                todo.extend(req.extras)
            else:
                names.add(req.name.lower())
    return names


def _verl_requirement(extra: str) -> Requirement:
    (req,) = [r for r in _extras()[extra] if r.name == "verl"]
    return req


def test_verl_gpu_extra_brings_flash_attention_liger_and_vllm():
    pytest.importorskip("verl")
    from verl.workers.config.model import HFModelConfig

    # the fact that makes the fsdp extra necessary
    assert '"attn_implementation", "flash_attention_2"' in inspect.getsource(HFModelConfig)
    req = _verl_requirement("verl-gpu")
    packages = _verl_extra_packages(set(req.extras))
    assert {"flash-attn", "liger-kernel", "vllm"} <= packages, packages
    # the same verl as the tests and the CPU extra check
    tested = _verl_requirement("test")
    assert set(req.specifier) == set(tested.specifier) and importlib.metadata.version("verl") in req.specifier


def test_trl_route_and_verl_fsdp_need_separate_environments():
    pytest.importorskip("verl")
    requirements = [Requirement(r) for r in importlib.metadata.requires("verl") or []]
    (trl_pin,) = [r for r in requirements if r.name == "trl" and r.marker.evaluate({"extra": "fsdp"})]
    (pinned,) = [s.version for s in trl_pin.specifier]
    (ours,) = [r for r in _extras()["train"] if r.name == "trl"]
    assert pinned not in ours.specifier  # e.g. verl[fsdp] pins trl==0.27.0, the train extra wants >=1.16
    readme = (ROOT / "README.md").read_text()
    train = readme[readme.index("## Train"):readme.index("## Diagnose and calibrate")]
    assert '".[verl-gpu]"' in train and "separate venvs" in train
