"""Run one job per video over a process pool (or in-process), yielding results as they finish.

Pool workers never outlive the run: each asks the kernel for SIGKILL when its parent (the
forkserver, which itself exits when the main process is gone) dies, and a watchdog thread ends
the worker when the main process is no longer alive, so ``kill -9`` of a build leaves no
process holding its folder or the caller's terminal and pipes.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable, Iterator

from tqdm import tqdm


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def decoder_threads(workers: int) -> int:
    """Decoder threads per worker so that workers x threads roughly fills the machine."""
    return max(1, default_workers() // max(1, workers))


ENGINES = ("local", "ray")


def run_jobs(job: Callable[[Any], Any], items: Iterable[Any], *, workers: int, desc: str, progress: bool = True, engine: str = "local") -> Iterator[Any]:
    """Apply the picklable top-level function ``job`` to every item; yield results in completion order.

    ``engine="local"``: a process pool of ``workers`` (``workers == 1`` runs in this process,
    simplest to debug). ``engine="ray"``: one Ray task per item on the cluster that
    ``ray.init()`` finds (``RAY_ADDRESS``, or a local one). Jobs are deterministic and write
    their own output, so both engines produce the same files. A job should catch its own
    per-item errors and return them as data; an exception here ends the run.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    items = list(items)
    bar = tqdm(total=len(items), desc=desc, unit="video", disable=not progress or not items, dynamic_ncols=True)
    try:
        if engine == "ray" and items:
            for result in _run_ray(job, items):
                bar.update(1)
                yield result
            return
        if workers <= 1 or len(items) <= 1:
            for item in items:
                result = job(item)
                bar.update(1)
                yield result
            return
        # forkserver: workers start from a clean process, never inheriting decoder or torch state
        context = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=context, initializer=_init_worker, initargs=(os.getpid(),))
        try:
            futures = [pool.submit(job, item) for item in items]
            for future in as_completed(futures):
                result = future.result()
                bar.update(1)
                yield result
        except BaseException:
            # Ctrl-C or an error: do not wait for running jobs (each commits atomically, so a rerun resumes)
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
            raise
        pool.shutdown(wait=True)
    finally:
        bar.close()


WATCHDOG_PERIOD_S = 0.5
_PR_SET_PDEATHSIG = 1


def _init_worker(main_pid: int) -> None:
    """Pool workers leave Ctrl-C to the driver, which stops them (no traceback per worker), and
    exit when the driver is gone."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch, args=(main_pid, parent), name="videossr-watchdog", daemon=True).start()


def _watch(main_pid: int, parent: int) -> None:
    """End this worker as soon as the main process (or the parent that started it) is gone."""
    from videossr.atomic import pid_alive

    while os.getppid() == parent and pid_alive(main_pid):
        time.sleep(WATCHDOG_PERIOD_S)
    os._exit(1)


def _run_ray(job: Callable[[Any], Any], items: list[Any]) -> Iterator[Any]:
    try:
        import ray
    except ImportError:
        raise ValueError("--engine ray needs Ray: pip install 'videossr[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), log_to_driver=False, include_dashboard=False)
    remote_job = ray.remote(num_cpus=1, max_retries=2)(job)
    pending = [remote_job.remote(item) for item in items]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])
