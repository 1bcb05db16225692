"""Benchmarks that train: `disreid train` and `disreid evaluate` run as a user types them, side by side when
asked, and kept: a run already in its folder is evaluated, not trained again, so a chain stopped half-way
resumes where it stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

Job = TypeVar("Job")


def overrides(values: Sequence[str]) -> list[str]:
    return [arg for value in values for arg in ("--set", value)]


def as_run(command: list[str]) -> list[str]:
    """`disreid ...` as this Python runs it, whether or not its environment's scripts are on the PATH."""
    return [sys.executable, "-m", "disreid", *command[1:]]


def train(run: Path, config: str, values: Sequence[str], threads: int) -> dict:
    """`disreid train --config CONFIG --set ...` into `run` (logged beside it, in RUN.log) unless it is
    there already; its command and wall time."""
    command = ["disreid", "train", "--config", config, "--out", str(run), "--no-report", *overrides(values)]
    done = (run / "best" / "model").is_dir() and (run / "time.json").is_file()
    if not done:
        run.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        with run.with_name(f"{run.name}.log").open("w") as log:
            subprocess.run(as_run(command), check=True, stdout=log, stderr=subprocess.STDOUT, env=env)
        seconds = time.perf_counter() - start
        (run / "time.json").write_text(json.dumps({"seconds": seconds, "threads": threads}))
    return {"run": str(run), "command": " ".join(command), **json.loads((run / "time.json").read_text())}


def evaluate(run: str | Path, split: str) -> dict:
    """`disreid evaluate --run RUN --split SPLIT --json`, kept as RUN/eval_SPLIT.json."""
    out = Path(run) / f"eval_{split}.json"
    if not out.is_file():
        command = ["disreid", "evaluate", "--run", str(run), "--split", split, "--json", str(out)]
        subprocess.run(as_run(command), check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def side_by_side(work: Callable[[Job, int], dict], jobs: Sequence[Job], parallel: int) -> list[dict]:
    """`work(job, threads)` for every job, `parallel` at a time, the machine's cores shared among them."""
    threads = max(1, (os.cpu_count() or 1) // parallel)
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda job: work(job, threads), jobs))
