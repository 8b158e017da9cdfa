"""Reward scoring speed: scores/s per task on realistic outputs, and ms per 1 MB adversarial string.

    python benchmarks/bench_rewards.py [--outputs 100000] [--repeats 5] [--seed 0]

Realistic outputs mix what models write: bare answers, <answer> tags after a short <think>,
prose, labelled counts, clock times, full-width digits, near-miss and wrong answers, and a few
unparsable replies. The adversarial strings are each about 1 MB (target: under 5 ms each).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from videossr.rewards import TASKS, compute, data_source_for  # noqa: E402

MEGABYTE = 1_000_000
TARGET_MS = 5.0
FULL_WIDTH = str.maketrans("0123456789.-,:", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff0e\uff0d\uff0c\uff1a")
GARBAGE = ["I cannot tell from the video.", "", "The anomaly is visible in the middle.", "<think>Let me look again at the clips"]


def _wrap(rng: random.Random, answer: str) -> str:
    """One of the ways models present an answer."""
    style = rng.random()
    if style < 0.35:
        return answer
    if style < 0.6:
        return f"<answer>{answer}</answer>"
    if style < 0.8:
        return f"<think>Looking at the frames, something changes around the middle. Let me check.</think>\n<answer>{answer}</answer>"
    if style < 0.95:
        return f"The answer is {answer}."
    return answer.translate(FULL_WIDTH)


def grounding_case(rng: random.Random) -> tuple[str, str]:
    fps = 48 / rng.uniform(5, 180)
    length = rng.randint(8, 16)
    start = rng.randint(0, 48 - length)
    truth_start, truth_end = start / fps, (start + length) / fps
    truth = f"{truth_start:.1f}-{truth_end:.1f}"
    if rng.random() < 0.05:
        return rng.choice(GARBAGE), truth
    guess_start = max(0.0, truth_start + rng.gauss(0, 2))
    guess_end = guess_start + abs(truth_end - truth_start + rng.gauss(0, 2)) + 0.1
    answer = rng.choice(["{:.1f}-{:.1f}", "{:.1f}s - {:.1f}s", "between {:.1f} and {:.1f} seconds", "[{:.2f}, {:.2f}]"])
    if rng.random() < 0.05:
        answer = "0:{:04.1f} - 0:{:04.1f}" if guess_end < 60 else answer
    return _wrap(rng, answer.format(guess_start, guess_end)), truth


def counting_case(rng: random.Random) -> tuple[str, str]:
    counts = [rng.randint(1, 16) for _ in range(3)]
    truth = ",".join(map(str, counts))
    if rng.random() < 0.05:
        return rng.choice(GARBAGE), truth
    guess = [max(0, c + rng.choice([-2, -1, 0, 0, 0, 1, 2])) for c in counts]
    style = rng.random()
    if style < 0.6:
        answer = rng.choice([", ", ",", " "]).join(map(str, guess))
    elif style < 0.85:
        answer = "circles: {}, squares: {}, triangles: {}".format(*guess)
    else:
        answer = "{} circles, {} squares and {} triangles".format(*guess)
    return _wrap(rng, answer), truth


def jigsaw_case(rng: random.Random) -> tuple[str, str]:
    n = rng.choice([6, 6, 6, 8, 8, 12])
    order = rng.sample(range(1, n + 1), n)
    fmt = "".join if n <= 9 else ",".join
    truth = fmt(map(str, order))
    if rng.random() < 0.05:
        return rng.choice(GARBAGE), truth
    guess = list(order)
    for _ in range(rng.randint(0, 3)):
        i, j = rng.randrange(n), rng.randrange(n)
        guess[i], guess[j] = guess[j], guess[i]
    style = rng.random()
    if style < 0.4 and n <= 9:
        answer = "".join(map(str, guess))
    elif style < 0.8:
        answer = rng.choice([",", ", ", "-", " "]).join(map(str, guess))
    else:
        answer = ", ".join(f"Clip {k}" for k in guess)
    return _wrap(rng, answer), truth


CASES = {"grounding": grounding_case, "counting": counting_case, "jigsaw": jigsaw_case}


def adversarial_strings(seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    return {
        "angle brackets": "<" * MEGABYTE,
        "open answer tags": "<answer>" * (MEGABYTE // 8),
        "answer blocks": "<answer>1</answer>" * (MEGABYTE // 17),
        "open think tags": "<think>" * (MEGABYTE // 7),
        "think-tag prefixes": "</think" * (MEGABYTE // 7),
        "one huge number": "9" * MEGABYTE,
        "comma list": "1," * (MEGABYTE // 2),
        "dash list": "12.5-" * (MEGABYTE // 5),
        "full-width digits": "\uff13\uff0c" * (MEGABYTE // 2),
        "clock times": "1:" * (MEGABYTE // 2),
        "boxed openers": "\\boxed{" * (MEGABYTE // 7),
        "random unicode": "".join(chr(rng.randrange(32, 0x3000)) for _ in range(MEGABYTE)),
        "long think, then answer": "<think>" + "count 1, 2, 3. " * (MEGABYTE // 15) + "</think><answer>3,1,4</answer>",
        "answer after 1 MB prose": "x" * MEGABYTE + "</think>3,1,4",
    }


def bench_throughput(outputs: int, seed: int) -> None:
    print(f"throughput: {outputs:,} realistic outputs per task, compute(), one process")
    print(f"{'task':<10} {'seconds':>8} {'scores/s':>10} {'mean smooth':>12} {'mean strict':>12} {'format_ok':>10}")
    for task in TASKS:
        rng = random.Random(f"{seed}-{task}")
        cases = [CASES[task](rng) for _ in range(outputs)]
        data_source = data_source_for(task)
        started = time.perf_counter()
        results = [compute(data_source, response, truth) for response, truth in cases]
        seconds = time.perf_counter() - started
        smooth = sum(r.score for r in results) / outputs
        strict = sum(r.strict for r in results) / outputs
        format_ok = sum(r.format_ok for r in results) / outputs
        print(f"{task:<10} {seconds:>8.2f} {outputs / seconds:>10,.0f} {smooth:>12.3f} {strict:>12.3f} {format_ok:>10.3f}")


def bench_adversarial(repeats: int, seed: int) -> bool:
    print(f"\nadversarial strings: slowest task, best of {repeats} (target < {TARGET_MS:.0f} ms)")
    print(f"{'case':<26} {'chars':>9} {'ms':>7}  ok")
    all_ok = True
    for name, text in adversarial_strings(seed).items():
        slowest_ms = 0.0
        for task in TASKS:
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                compute(data_source_for(task), text, {"grounding": "12.5-20.0", "counting": "3,1,4", "jigsaw": "315264"}[task])
                best = min(best, time.perf_counter() - started)
            slowest_ms = max(slowest_ms, best * 1e3)
        ok = slowest_ms < TARGET_MS
        all_ok &= ok
        print(f"{name:<26} {len(text):>9,} {slowest_ms:>7.2f}  {'yes' if ok else 'NO'}")
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", type=int, default=100_000, help="realistic outputs per task (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per adversarial string (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    bench_throughput(args.outputs, args.seed)
    return 0 if bench_adversarial(args.repeats, args.seed) else 1


if __name__ == "__main__":
    sys.exit(main())
