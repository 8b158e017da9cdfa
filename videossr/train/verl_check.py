"""Check a verl command on CPU as far as verl itself would before it needs GPUs (verl 0.9.1).

``verl.trainer.main_ppo`` composes its Hydra config and runs ``validate_config``; that accepts keys
added with ``+`` and values no worker could use. The workers then turn their sections into typed
dataclasses (``verl.utils.config.omega_conf_to_dataclass``, ``verl/workers/engine_workers.py``:
the model as ``HFModelConfig``, the actor and reference as ``ActorConfig``, the rollout as
``RolloutConfig``, the checkpoint engine; the trainer adds ``CriticConfig`` when a critic is used),
and the vLLM server checks ``max_model_len`` against the model (``vllm_async_server.py``).
:func:`check` does all of that here, plus one rule verl leaves to run time: a prompt of
``max_prompt_length`` must leave room for ``max_response_length`` tokens within ``max_model_len``
(else verl silently shortens the responses). Needs verl (and the model folder, for its config and
processor); nothing is loaded onto a device.

Not covered: vLLM's own engine arguments (``rollout.engine_kwargs.vllm``) are passed to vLLM as a
dict, and vLLM is not importable without a GPU build, so misspelled engine kwargs surface only when
the vLLM server starts.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

from videossr.errors import UserError


@dataclass(frozen=True)
class TypedConfigs:
    """The dataclasses verl's workers build from the config (``critic`` only when the run has a critic)."""

    model: object
    actor: object
    ref: object | None
    rollout: object
    algorithm: object
    checkpoint_engine: object
    critic: object | None


def compose(overrides) -> object:
    """verl's ``ppo_trainer`` config with ``overrides``, then ``validate_config`` as ``main_ppo.main`` runs it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config
    from verl.utils.device import auto_set_device

    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("verl.trainer.config", version_base=None):
            config = hydra_compose("ppo_trainer", overrides=list(overrides))
    finally:
        GlobalHydra.instance().clear()
    auto_set_device(config)
    validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    return config


def _ref_section(config):
    """``config.actor_rollout_ref.ref`` renamed as ``ActorRolloutRefWorker.init_model`` does before typing it."""
    from omegaconf import open_dict

    arr = config.actor_rollout_ref
    ref = deepcopy(arr.ref)
    with open_dict(ref):
        ref.ppo_mini_batch_size = arr.actor.ppo_mini_batch_size
        ref.ppo_micro_batch_size = ref.pop("log_prob_micro_batch_size", None)
        ref.ppo_micro_batch_size_per_gpu = ref.pop("log_prob_micro_batch_size_per_gpu", None)
        ref.use_dynamic_bsz = ref.pop("log_prob_use_dynamic_bsz", False)
        ref.ppo_max_token_len_per_gpu = ref.pop("log_prob_max_token_len_per_gpu", None)
    return ref


def typed_configs(config) -> TypedConfigs:
    """Build every typed section a GRPO run's workers build (raises verl's own errors on bad keys or values)."""
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass

    arr = config.actor_rollout_ref
    return TypedConfigs(
        model=omega_conf_to_dataclass(arr.model),
        actor=omega_conf_to_dataclass(arr.actor),
        ref=omega_conf_to_dataclass(_ref_section(config)) if need_reference_policy(config) else None,
        rollout=omega_conf_to_dataclass(arr.rollout),
        algorithm=omega_conf_to_dataclass(config.algorithm),
        checkpoint_engine=omega_conf_to_dataclass(arr.rollout.checkpoint_engine),
        critic=omega_conf_to_dataclass(config.critic) if need_critic(config) else None,
    )


def check_lengths(config, typed: TypedConfigs) -> None:
    """vLLM server's rule (``max_model_len`` <= the model's positions) and prompt + response <= ``max_model_len``."""
    from verl.workers.rollout.utils import get_max_position_embeddings

    positions = get_max_position_embeddings(typed.model.hf_config)
    max_model_len = typed.rollout.max_model_len
    if max_model_len is None:
        raise UserError(f"rollout.max_model_len is unset: vLLM would reserve KV cache for the model's full {positions} positions")
    if max_model_len > positions:
        raise UserError(f"rollout.max_model_len ({max_model_len}) should be less than or equal to max_position_embeddings ({positions})")
    needed = config.data.max_prompt_length + config.data.max_response_length
    if needed > max_model_len:
        raise UserError(f"data.max_prompt_length + data.max_response_length = {needed} exceeds rollout.max_model_len "
                        f"({max_model_len}): long prompts would get shorter responses")


def check(overrides) -> TypedConfigs:
    """:func:`compose`, :func:`typed_configs` and :func:`check_lengths` for a command's Hydra overrides."""
    config = compose(overrides)
    typed = typed_configs(config)
    check_lengths(config, typed)
    return typed
