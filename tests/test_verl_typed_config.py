"""The printed ``videossr train verl --dry-run`` command, built into verl 0.9.1's typed worker configs on CPU.

``validate_config`` (what ``main_ppo`` prints "All configuration checks passed" after) accepts keys
added with ``+`` and lengths no vLLM server would start with. Here the command's overrides go
through verl's ``main_ppo`` Hydra entry point and then into the dataclasses verl's workers build
(``omega_conf_to_dataclass``: HFModelConfig from the model folder, ActorConfig for actor and
reference, RolloutConfig, the checkpoint engine), plus the vLLM server's length rule; each broken
variant below passes ``validate_config`` and must fail there. The model is the offline tiny
Qwen3-VL (``max_position_embeddings`` 32768).

Not checked: vLLM's own engine arguments (``engine_kwargs.vllm``); vLLM is not installed here (it needs
a GPU build), so a misspelled vLLM kwarg shows only when the server starts.
"""

from __future__ import annotations

import shlex

import pytest

pytest.importorskip("verl")
pytest.importorskip("transformers")

from tiny_qwen import save_tiny_checkpoint  # noqa: E402
from videossr.cli import main as cli_main  # noqa: E402
from videossr.errors import UserError  # noqa: E402
from videossr.train.verl_check import check_lengths, typed_configs  # noqa: E402
from verl_helpers import compose_with_verl  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Disabled critic:UserWarning")


@pytest.fixture(scope="module")
def built(tmp_path_factory, clips_dir):
    from videossr.build import build
    from videossr.recipe import load_recipe

    out = tmp_path_factory.mktemp("verl-typed-data")
    build(clips_dir, out, load_recipe("videossr30k"), size=6, workers=1, progress=False, val_videos=1)
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-qwen3vl-typed"))


def dry_run_command(built, model, tmp_path, capsys, *extra) -> list[str]:
    code = cli_main(["train", "verl", "--data", str(built), "--model", str(model), "--out", str(tmp_path / "run"), "--dry-run", *extra])
    assert code == 0
    return shlex.split(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("nnodes", ["1", "4"])
def test_dry_run_command_builds_verl_worker_configs(built, tiny_model, tmp_path, capsys, monkeypatch, nnodes):
    command = dry_run_command(built, tiny_model, tmp_path, capsys, "--nnodes", nnodes)
    config = compose_with_verl(command, monkeypatch, tmp_path)
    typed = typed_configs(config)
    check_lengths(config, typed)

    assert type(typed.model).__name__ == "HFModelConfig" and typed.model.hf_config.model_type == "qwen3_vl"
    assert typed.model.processor is not None  # the processor loads from the model folder, as in the workers
    assert typed.critic is None  # GRPO: no critic
    # the paper's values, on the typed objects the workers use
    assert typed.actor.optim.lr == 1e-6 and typed.actor.ppo_mini_batch_size == 64
    assert typed.actor.kl_loss_coef == 1e-3 and typed.actor.use_kl_loss is True and typed.actor.entropy_coeff == 0
    assert typed.actor.strategy == "fsdp2" and typed.actor.use_dynamic_bsz is True
    assert typed.actor.ppo_max_token_len_per_gpu == 3 * (8192 + 2048)
    assert list(typed.actor.checkpoint.save_contents) == ["model", "optimizer", "extra"]
    assert typed.rollout.n == 8 and typed.rollout.temperature == 1.0 and typed.rollout.name == "vllm"
    assert typed.rollout.max_model_len == 10240 and typed.rollout.tensor_model_parallel_size == 2
    assert typed.rollout.engine_kwargs["vllm"]["limit_mm_per_prompt"] == {"video": 6}
    assert typed.ref.use_dynamic_bsz is True and typed.ref.ppo_max_token_len_per_gpu == 3 * (8192 + 2048)
    assert typed.ref.fsdp_config.param_offload is True
    assert typed.algorithm.adv_estimator == "grpo" and typed.algorithm.use_kl_in_reward is False
    assert config.trainer.nnodes == int(nnodes)


@pytest.mark.parametrize("override, error", [
    # keys added with + reach these sections unchecked: Hydra allows them, and validate_config types only
    # the actor (and critic) section, not the rollout, reference or model sections
    ("+actor_rollout_ref.rollout.max_model_length=10240", "max_model_length"),
    ("+actor_rollout_ref.ref.fsdp_config.offload_polcy=True", "offload_polcy"),
    ("+actor_rollout_ref.model.use_remove_paddding=True", "use_remove_paddding"),
])
def test_misspelled_keys_fail_in_the_typed_configs(built, tiny_model, tmp_path, capsys, monkeypatch, override, error):
    command = dry_run_command(built, tiny_model, tmp_path, capsys, "--", override)
    config = compose_with_verl(command, monkeypatch, tmp_path)  # verl's main_ppo lets it through
    assert "All configuration checks passed" in capsys.readouterr().out
    with pytest.raises(Exception, match=error):
        typed_configs(config)


@pytest.mark.parametrize("override, error", [
    ("actor_rollout_ref.rollout.max_model_len=999999", r"max_model_len \(999999\) should be less than or equal to max_position_embeddings \(32768\)"),
    ("actor_rollout_ref.rollout.max_model_len=8192", r"= 10240 exceeds rollout.max_model_len \(8192\)"),
    ("actor_rollout_ref.rollout.max_model_len=null", "max_model_len is unset"),
])
def test_impossible_lengths_fail(built, tiny_model, tmp_path, capsys, monkeypatch, override, error):
    command = dry_run_command(built, tiny_model, tmp_path, capsys, "--", override)
    config = compose_with_verl(command, monkeypatch, tmp_path)
    assert "All configuration checks passed" in capsys.readouterr().out
    typed = typed_configs(config)  # well-typed; the length is wrong for this model and these limits
    with pytest.raises(UserError, match=error):
        check_lengths(config, typed)


def test_verl_check_composes_like_main_ppo(built, tiny_model, tmp_path, capsys, monkeypatch):
    """verl_check.compose (Hydra's compose API, used off the entry point) gives main_ppo's config."""
    from omegaconf import OmegaConf

    from videossr.train.verl_check import check, compose

    command = dry_run_command(built, tiny_model, tmp_path, capsys, "--nnodes", "4")
    overrides = command[command.index("verl.trainer.main_ppo") + 1:]
    via_main = OmegaConf.to_container(compose_with_verl(command, monkeypatch, tmp_path))
    assert OmegaConf.to_container(compose(overrides)) == via_main
    assert check(overrides).rollout.max_model_len == 10240
