"""``videossr train verl``: the generated command goes through verl 0.9.1's own entry point on CPU.

Each test feeds the command's arguments to ``verl.trainer.main_ppo.main`` (the real ``@hydra.main``:
Hydra composition of verl's ``ppo_trainer.yaml``, ``auto_set_device``, ``validate_config``) and
stops it where training would start (``run_ppo``, which needs GPUs and a rollout engine, is
replaced by a function that keeps the final config). The config is then checked key by key, its
sections are turned into verl's dataclasses as verl does, and the reward function is loaded
through verl's loader and called.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("verl")
pytest.importorskip("hydra")

from verl_helpers import compose_with_verl  # noqa: E402
from videossr.cli import main as cli_main  # noqa: E402
from videossr.train.data import resolve  # noqa: E402
from videossr.train.verl import REWARD_PLUGIN, VerlRun, plan  # noqa: E402
from videossr.train.verl_launch import launch, write  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory, clips_dir):
    """A small build of the paper's mix from the real clips, one video held out as val.parquet."""
    from videossr.build import build
    from videossr.recipe import load_recipe

    out = tmp_path_factory.mktemp("verl-data")
    build(clips_dir, out, load_recipe("videossr30k"), size=6, workers=1, progress=False, val_videos=1)
    assert (out / "train.parquet").is_file() and (out / "val.parquet").is_file()
    return out


def _verl_dataclasses(config):
    """Instantiate the sections verl's trainer turns into dataclasses at start-up (type and value checks)."""
    from verl.utils import omega_conf_to_dataclass

    return {name: omega_conf_to_dataclass(section) for name, section in (
        ("algorithm", config.algorithm), ("actor", config.actor_rollout_ref.actor),
        ("rollout", config.actor_rollout_ref.rollout))}


@pytest.mark.parametrize("nnodes", [1, 4])
def test_paper_recipe_passes_verl_validation(built, tmp_path, monkeypatch, nnodes):
    run = VerlRun(resolve(built), "/models/Qwen3-VL-8B-Instruct", tmp_path / "run", nnodes=nnodes)
    config = compose_with_verl(plan(run).command, monkeypatch, tmp_path)

    assert config.trainer.nnodes == nnodes and config.trainer.n_gpus_per_node == 8
    assert config.actor_rollout_ref.model.path == "/models/Qwen3-VL-8B-Instruct"
    assert config.data.train_files == str((built / "train.parquet").resolve())
    assert config.data.val_files == str((built / "val.parquet").resolve())  # picked up by default
    assert config.trainer.val_before_train is True and config.trainer.test_freq > 0
    # the paper's hyperparameters
    assert config.algorithm.adv_estimator == "grpo" and config.algorithm.use_kl_in_reward is False
    assert config.data.train_batch_size == 64 and config.actor_rollout_ref.rollout.n == 8
    actor = config.actor_rollout_ref.actor
    assert actor.optim.lr == pytest.approx(1e-6) and actor.use_kl_loss is True
    assert actor.kl_loss_coef == pytest.approx(1e-3) and actor.entropy_coeff == 0
    assert config.data.max_prompt_length == 8192 and config.data.max_response_length == 2048
    assert config.trainer.total_epochs == 1
    # Qwen3-VL and the data: patch 16, vLLM allows the jigsaw rows' six clip videos
    assert config.data.image_patch_size == 16
    assert dict(config.actor_rollout_ref.rollout.engine_kwargs.vllm.limit_mm_per_prompt) == {"video": 6}
    assert config.reward.custom_reward_function.path == REWARD_PLUGIN
    assert config.reward.custom_reward_function.name == "compute_score"
    assert config.algorithm.filter_groups.enable is False
    assert config.trainer.default_local_dir == str(tmp_path / "run" / "checkpoints")
    # a new run never continues old checkpoints; vLLM sizes its KV cache for prompt + response only
    assert config.trainer.resume_mode == "disable"
    assert config.actor_rollout_ref.rollout.max_model_len == 8192 + 2048
    assert config.trainer.max_actor_ckpt_to_keep == 2 and config.trainer.save_freq == 50
    assert list(config.trainer.logger) == ["console", "tensorboard"]
    assert list(config.actor_rollout_ref.actor.checkpoint.save_contents) == ["model", "optimizer", "extra"]
    # every Ray worker of a local run gets the interpreter that runs this test (which has verl)
    assert config.ray_kwargs.ray_init.runtime_env.py_executable == sys.executable
    assert config.ray_kwargs.ray_init.runtime_env.env_vars.TENSORBOARD_DIR == str(tmp_path / "run" / "tensorboard")

    parts = _verl_dataclasses(config)
    assert parts["rollout"].engine_kwargs["vllm"]["limit_mm_per_prompt"] == {"video": 6}
    assert parts["actor"].ppo_mini_batch_size == 64


def test_ablation_flags_land_on_their_keys(built, tmp_path, monkeypatch):
    """--reward strict, --filter-zero-variance, --rollout sglang, --gpus-per-node, --val none, -- overrides."""
    from verl.trainer.ppo.reward import get_custom_reward_fn

    run = VerlRun(resolve(built, "none"), "/models/m", tmp_path / "run, with space", gpus_per_node=4, nnodes=2,
                  reward="strict", filter_zero_variance=True, rollout="sglang",
                  extra_overrides=("trainer.save_freq=7", "data.train_batch_size=32", "data.max_prompt_length=12000"))
    config = compose_with_verl(plan(run).command, monkeypatch, tmp_path)

    assert config.reward.custom_reward_function.name == "compute_score_strict"
    assert config.algorithm.filter_groups.enable is True and config.algorithm.filter_groups.metric == "strict"
    assert config.actor_rollout_ref.rollout.name == "sglang" and "limit_mm_per_prompt" not in config.actor_rollout_ref.rollout.engine_kwargs.vllm
    assert config.trainer.n_gpus_per_node == 4 and config.trainer.nnodes == 2
    assert config.trainer.save_freq == 7 and config.data.train_batch_size == 32  # user overrides win
    assert config.actor_rollout_ref.rollout.max_model_len == 12000 + 2048  # follows a longer prompt limit
    assert config.trainer.val_before_train is False and config.trainer.test_freq == -1  # --val none
    assert config.trainer.default_local_dir == str(tmp_path / "run, with space" / "checkpoints")  # quoted for Hydra
    assert _verl_dataclasses(config)["algorithm"].filter_groups.metric == "strict"

    # the plug-in resolves through verl's loader; the strict function scores exact matches only
    reward_fn = get_custom_reward_fn(config)
    near = reward_fn(data_source="videossr/grounding", solution_str="<answer>1.0-2.1</answer>", ground_truth="1.0-2.0", extra_info={})
    exact = reward_fn(data_source="videossr/grounding", solution_str="<answer>1.0-2.0</answer>", ground_truth="1.0-2.0", extra_info={})
    assert near["score"] == 0.0 and 0.8 < near["smooth"] < 1.0 and exact["score"] == 1.0


def test_filter_metric_and_val_options(built, tmp_path, monkeypatch):
    other_val = tmp_path / "held-out.parquet"
    other_val.write_bytes((built / "val.parquet").read_bytes())
    run = VerlRun(resolve(built, other_val), "/m", tmp_path / "run", filter_zero_variance=True, filter_metric="format_ok")
    config = compose_with_verl(plan(run).command, monkeypatch, tmp_path)
    assert config.algorithm.filter_groups.metric == "format_ok"
    assert config.data.val_files == str(other_val)  # --val PATH
    assert config.reward.custom_reward_function.name == "compute_score"


PAPER_KEYS = {
    # the paper's recipe, as literal Hydra values (PAPER.md: GRPO, 1 epoch, lr 1e-6, batch 64, 8 rollouts,
    # KL loss 1e-3 not in the reward, entropy 0, prompt 8192 / response 2048)
    "algorithm.adv_estimator": "grpo",
    "algorithm.use_kl_in_reward": "False",
    "trainer.total_epochs": "1",
    "actor_rollout_ref.actor.optim.lr": "1e-06",
    "data.train_batch_size": "64",
    "actor_rollout_ref.actor.ppo_mini_batch_size": "64",
    "actor_rollout_ref.rollout.n": "8",
    "actor_rollout_ref.actor.use_kl_loss": "True",
    "actor_rollout_ref.actor.kl_loss_coef": "0.001",
    "actor_rollout_ref.actor.entropy_coeff": "0.0",
    "data.max_prompt_length": "8192",
    "data.max_response_length": "2048",
    "actor_rollout_ref.rollout.temperature": "1.0",
    # launch settings of this change
    "actor_rollout_ref.rollout.max_model_len": "10240",
    "trainer.resume_mode": "disable",
    "trainer.max_actor_ckpt_to_keep": "2",
    "trainer.logger": "[console,tensorboard]",
}


def _keyed(words):
    return dict(w.lstrip("+").split("=", 1) for w in words if "=" in w)


def test_dry_run_prints_the_command_and_writes_nothing(built, tmp_path, capsys):
    out = tmp_path / "run"
    code = cli_main(["train", "verl", "--data", str(built), "--model", "/m", "--nnodes", "4", "--out", str(out), "--dry-run", "--", "trainer.save_freq=3"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and not out.exists()
    words = shlex.split(lines[-1])
    assert words[:3] == [sys.executable, "-m", "verl.trainer.main_ppo"]
    keyed = _keyed(words[3:])
    assert {k: keyed.get(k) for k in PAPER_KEYS} == PAPER_KEYS
    assert keyed["trainer.nnodes"] == "4" and keyed["trainer.n_gpus_per_node"] == "8"
    assert keyed["trainer.save_freq"] == "3" and words.count("trainer.save_freq=3") == 1  # the user's override replaced ours
    assert keyed["trainer.default_local_dir"] == str(out / "checkpoints")
    assert keyed["ray_kwargs.ray_init.runtime_env.py_executable"] == sys.executable
    assert any(line.startswith("note: estimate: ") for line in lines)


def test_settings_flags_land_on_their_keys(built, tmp_path, capsys):
    out = tmp_path / "run"
    code = cli_main(["train", "verl", "--data", str(built), "--model", "/m", "--out", str(out), "--dry-run", "--save-hf",
                     "--logger", "console,wandb", "--experiment", "smooth-8b-a", "--save-freq", "20", "--keep-checkpoints", "3",
                     "--python", "/opt/verl-venv/bin/python"])
    words = shlex.split(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and words[:3] == ["/opt/verl-venv/bin/python", "-m", "verl.trainer.main_ppo"]
    keyed = _keyed(words[3:])
    assert keyed["actor_rollout_ref.actor.checkpoint.save_contents"] == "[model,optimizer,extra,hf_model]"
    assert keyed["trainer.logger"] == "[console,wandb]" and keyed["trainer.experiment_name"] == "smooth-8b-a"
    assert keyed["trainer.save_freq"] == "20" and keyed["trainer.max_actor_ckpt_to_keep"] == "3"
    assert keyed["ray_kwargs.ray_init.runtime_env.py_executable"] == "/opt/verl-venv/bin/python"
    assert "ray_kwargs.ray_init.runtime_env.env_vars.TENSORBOARD_DIR" not in keyed  # no tensorboard logger
    assert cli_main(["train", "verl", "--data", str(built), "--model", "/m", "--out", str(out), "--dry-run", "--logger", "console,mlfow"]) == 2
    assert "unknown --logger 'mlfow'" in capsys.readouterr().err


def test_cli_rejects_bad_input_with_one_line(built, tmp_path, capsys):
    assert cli_main(["train", "verl", "--data", str(tmp_path / "missing"), "--model", "/m", "--dry-run"]) == 2
    assert cli_main(["train", "verl", "--data", str(built), "--model", "/m", "--ray-address", "HEAD:6379", "--dry-run"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert "no train.parquet" in errors[0] and "http://HEAD:8265" in errors[1]


def test_run_folder_train_sh_runs_the_same_command(built, tmp_path):
    p = plan(VerlRun(resolve(built), "/m", tmp_path / "run"))
    written = write(p)
    names = sorted(path.name for path in written)
    assert names == ["command.txt", "run.json", "train.sh"]
    assert p.train_sh.stat().st_mode & 0o111
    subprocess.run(["bash", "-n", str(p.train_sh)], check=True)
    # the script's command, as bash would split it, is the command plus the script's own arguments
    script = p.train_sh.read_text().replace("\\\n", " ").splitlines()[-1]
    words = shlex.split(script.split(" 2>&1 | tee ")[0])
    assert words == [*p.command, "$@"]
    assert (tmp_path / "run" / "command.txt").read_text().strip() == p.command_line
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["format"] == "videossr-verl-run-v1" and record["data_summary"]["max_videos_per_row"] == 6
    assert record["python"] == sys.executable and record["resume_mode"] == "disable" and len(record["launches"]) == 1


def _submit_context(command):
    """``ray job submit`` arguments parsed by Ray's own click command (nothing is sent)."""
    from ray.dashboard.modules.job.cli import submit

    assert Path(command[0]).name == "ray" and list(command[1:3]) == ["job", "submit"]
    return submit.make_context("submit", list(command[3:]))


def test_ray_submit_command_and_runtime_env(built, tmp_path):
    import yaml
    from ray.runtime_env import RuntimeEnv

    import videossr

    p = plan(VerlRun(resolve(built), "/shared/models/q", tmp_path / "run", nnodes=4, ray_address="http://10.0.0.1:8265"))
    write(p)
    ctx = _submit_context(p.command)
    assert ctx.params["address"] == "http://10.0.0.1:8265" and ctx.params["no_wait"] is True
    assert ctx.params["runtime_env"] == str(p.runtime_env_path.resolve())
    entrypoint = list(ctx.params["entrypoint"])
    assert entrypoint[:3] == [sys.executable, "-m", "verl.trainer.main_ppo"] and "trainer.nnodes=4" in entrypoint
    # the workers' interpreter goes to verl's ray.init (which always names py_executable), env vars to the job:
    # Ray refuses a ray.init() runtime env that repeats a field or env var of the job's
    assert [w for w in entrypoint if "ray_kwargs." in w] == [f"ray_kwargs.ray_init.runtime_env.py_executable={sys.executable}"]

    env = yaml.safe_load(p.runtime_env_path.read_text())
    RuntimeEnv(**env)  # Ray's own validation of the fields (py_modules must exist, env vars strings)
    assert env["py_modules"] == [str(Path(videossr.__file__).resolve().parent)]
    assert "py_executable" not in env
    assert env["env_vars"]["TOKENIZERS_PARALLELISM"] == "true"
    assert env["env_vars"]["TENSORBOARD_DIR"] == str(tmp_path / "run" / "tensorboard")
    assert "tee" not in p.train_sh.read_text()  # the job's log lives in Ray: ray job logs --follow


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_job_agent(gcs_address: str, dashboard_url: str, timeout_s: float = 180) -> None:
    """Block until a job submitted to this head is accepted: the dashboard answers and the head node's
    job agent has registered its address in the GCS and accepts connections (Ray's job head looks the
    agent up there and answers "No available agent to submit job" after 10 s when it is not yet there)."""
    import json as _json
    import socket
    import time
    import urllib.request

    from ray._private import ray_constants
    from ray._raylet import GcsClient
    from ray.dashboard.consts import DASHBOARD_AGENT_ADDR_NODE_ID_PREFIX

    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{dashboard_url}/api/version", timeout=5) as response:
                assert response.status == 200
            gcs = GcsClient(address=gcs_address)
            head = gcs.internal_kv_get(ray_constants.KV_HEAD_NODE_ID_KEY, namespace=ray_constants.KV_NAMESPACE_JOB, timeout=5)
            info = head and gcs.internal_kv_get(f"{DASHBOARD_AGENT_ADDR_NODE_ID_PREFIX}{head.decode()}".encode(),
                                                namespace=ray_constants.KV_NAMESPACE_DASHBOARD, timeout=5)
            if info:
                ip, http_port, _ = _json.loads(info.decode())
                socket.create_connection((ip, http_port), timeout=5).close()
                return
            last = "job agent not registered yet"
        except Exception as exc:  # not up yet: connection refused, GCS not ready, ...
            last = repr(exc)
        time.sleep(1)
    raise AssertionError(f"Ray head not ready for jobs after {timeout_s} s: {last}")


@pytest.mark.slow
def test_submit_to_a_local_ray_head(built, tmp_path, monkeypatch):
    """The generated ``ray job submit`` against a real Ray head (GCS, dashboard, job server) on this machine.

    The run names another interpreter (a venv over this one's packages, as a cluster's shared venv
    would be). First with the entry point swapped for a probe: it runs as the job with our runtime
    env, sees its env vars, imports the reward plug-in from the package the runtime env shipped (not
    from this checkout), as verl's reward workers will, and a Ray task it starts runs on the run's
    interpreter (``py_executable``), not the one that started Ray. Then ``launch`` submits the real
    verl job, which gets through verl's config validation and ``ray.init`` on the cluster before it
    would need GPUs. The head is used only once its job agent is ready (no retries on errors).
    """
    import os
    import tempfile
    import time
    import venv

    venv_dir = tmp_path / "cluster-venv"
    venv.EnvBuilder(system_site_packages=True, symlinks=True).create(venv_dir)
    cluster_python = str(venv_dir / "bin" / "python")

    gcs, dashboard = _free_port(), _free_port()
    ray_tmp = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # short (unix sockets), and private: no other ray.init() finds it
    env = dict(os.environ, RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    ray_bin = str(Path(sys.executable).with_name("ray"))
    # --block: the head's processes belong to this child; terminating it stops exactly them
    head = subprocess.Popen([ray_bin, "start", "--head", "--block", f"--port={gcs}", f"--dashboard-port={dashboard}",
                             "--dashboard-host=127.0.0.1", "--num-cpus=1", "--include-dashboard=true", f"--temp-dir={ray_tmp}"],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # jobs start in its cwd
    try:
        dashboard_url = f"http://127.0.0.1:{dashboard}"
        p = plan(VerlRun(resolve(built), "/m", tmp_path / "run", nnodes=2, ray_address=dashboard_url, python=cluster_python))
        write(p)
        wait_for_job_agent(f"127.0.0.1:{gcs}", dashboard_url)
        (py_executable,) = [w.split("=", 1)[1] for w in p.command if w.startswith("ray_kwargs.ray_init.runtime_env.py_executable=")]
        # as verl's main_ppo does: ray.init() with the runtime env of ray_kwargs.ray_init, inside the job
        probe = ("import os, sys, ray, videossr.rewards.verl as v; ray.init(runtime_env={'py_executable': " + repr(py_executable) + "}); "
                 "worker = ray.get(ray.remote(num_cpus=0)(lambda: sys.executable).remote()); "
                 "print('PROBE', os.environ['TOKENIZERS_PARALLELISM'], 'runtime_resources' in v.__file__, "
                 "v.compute_score('videossr/counting', '3,1,4', '3,1,4')['score'], sys.executable == worker == " + repr(cluster_python) + ")")
        # the generated submit, waiting for the job (no --no-wait) and with the probe as entry point
        command = [ray_bin, *p.command[1:p.command.index("--no-wait")], "--", cluster_python, "-c", probe]
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
        probe_lines = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("PROBE")]  # the job's log
        assert probe_lines == ["PROBE true True 1.0 True"], (done.stdout + done.stderr)[-2000:]

        # launch(): train.sh submits the real verl job (--no-wait); on the cluster verl's main_ppo must pass
        # validate_config and get through ray.init with our runtime env merged into its own (no GPU: stop there)
        monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
        monkeypatch.setenv("PATH", f"{Path(ray_bin).parent}{os.pathsep}{os.environ['PATH']}")
        assert launch(p) == 0
        from ray.job_submission import JobSubmissionClient

        client = JobSubmissionClient(dashboard_url)
        (job,) = [j for j in client.list_jobs() if "verl.trainer.main_ppo" in j.entrypoint]
        assert job.entrypoint.split()[:3] == [cluster_python, "-m", "verl.trainer.main_ppo"]
        logs, deadline = "", time.monotonic() + 180
        while "Connected to Ray cluster" not in logs and time.monotonic() < deadline and not client.get_job_status(job.submission_id).is_terminal():
            time.sleep(2)
            logs = client.get_job_logs(job.submission_id)
        logs = client.get_job_logs(job.submission_id)
        client.stop_job(job.submission_id)
        assert "[validate_config] All configuration checks passed" in logs, logs[-3000:]
        assert "Connected to Ray cluster" in logs, logs[-3000:]  # ray.init merged our runtime env with verl's
        assert f"'py_executable': '{cluster_python}'" in logs, logs[-3000:]  # verl's ray init kwargs, as printed
    finally:
        head.terminate()
        head.wait(timeout=60)
        import shutil

        shutil.rmtree(ray_tmp, ignore_errors=True)
