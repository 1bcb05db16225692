"""Kill `disreid train` and `disreid index` with SIGKILL at random moments, many times, and check after
every kill that nothing was lost: a checkpoint, once written, always loads; an index, once written,
always loads and answers a search; the resumed run's metrics.csv has every step once.

    python benchmarks/faults.py [--kills 40] [--seed 0]

Prints the tally and writes benchmarks/results/faults.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from _timing import save  # noqa: E402
from conftest import SMALL_RUN  # noqa: E402
from disreid.data.synth import generate_synthpedes  # noqa: E402
from disreid.retrieval import GalleryIndex, search  # noqa: E402
from disreid.training import LAST  # noqa: E402
from disreid.training.checkpoint import has_checkpoint, load_checkpoint  # noqa: E402

# The tests' tiny model on a 16-person SynthPedes at 32x16: an epoch takes about a second, so that kills
# land in every phase (start-up, steps, validation, the checkpoint's save) rather than mostly in one.
OVERRIDES = SMALL_RUN
CLI = "import sys; from disreid.cli import main; sys.exit(main(sys.argv[1:]))"


def disreid(*args: object) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", CLI, *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def killed(process: subprocess.Popen, started: Callable[[], bool], delay: float) -> bool:
    """Kill `process` `delay` seconds after `started()` first holds; False if it ended before (it must
    then have succeeded)."""
    while not started() and process.poll() is None:
        time.sleep(0.005)
    try:
        process.wait(delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True
    if process.returncode != 0:
        raise RuntimeError(f"the command failed by itself: {process.stderr.read()}")
    return False


def saving(folder: Path, name: str) -> Callable[[], bool]:
    """Whether a save of `folder / name` has begun (its staging folder exists)."""
    return lambda: any(folder.glob(f".{name}.*.partial"))


def kill_moment(rng: random.Random, span: float, folder: Path, name: str) -> tuple[Callable[[], bool], float]:
    """Half the kills at a random moment of the run's working time `span`, half within 0.2 s of the
    start of a save, where a kill can do the most harm."""
    if rng.random() < 0.5:
        return saving(folder, name), rng.uniform(0, 0.2)
    return (lambda: True), rng.uniform(0, span)


def timed(process: subprocess.Popen) -> float:
    start = time.perf_counter()
    if process.wait() != 0:
        raise RuntimeError(process.stderr.read())
    return time.perf_counter() - start


def leftovers(folder: Path) -> bool:
    return any(path.name.endswith((".partial", ".old")) for path in folder.rglob(".*"))


def train_kills(work: Path, kills: int, rng: random.Random) -> dict:
    """Train until `kills` kills have landed; each run resumes the last (or starts over where the run
    was killed before its first checkpoint, as the one-run-per-folder rule asks)."""
    run, data = work / "run", work / "synth"
    command = ["train", "--config", "synth_tiny", "--out", run, "--no-report"]
    command += [
        arg for value in [f"data.root={data}", "train.epochs=6", *OVERRIDES] for arg in ("--set", value)
    ]
    span = timed(disreid(*command))  # a whole run, start-up included: kill moments are drawn within it
    shutil.rmtree(run)
    tally = {"kills": 0, "during_a_save": 0, "before_first_checkpoint": 0, "recovered": 0, "lost": 0}
    had_checkpoint, start = False, time.perf_counter()
    while True:
        resume = has_checkpoint(run / LAST)
        if not resume and run.exists():  # stopped before its first checkpoint: start again
            shutil.rmtree(run)
        process = disreid(*command, *(["--resume"] if resume else []))
        if tally["kills"] >= kills:
            timed(process)
            break
        started, delay = kill_moment(rng, span, run, LAST)
        if not killed(process, started, delay):
            shutil.rmtree(run)  # finished: train again, to be killed
            had_checkpoint = False
            continue
        tally["kills"] += 1
        tally["during_a_save"] += run.exists() and leftovers(run)
        tally["recovered"] += (run / f".{LAST}.old").is_dir() and not (run / LAST).exists()
        if has_checkpoint(run / LAST):
            load_checkpoint(run / LAST)  # raises if the checkpoint is damaged
            had_checkpoint = True
        elif had_checkpoint:
            tally["lost"] += 1
        else:
            tally["before_first_checkpoint"] += 1
    with (run / "metrics.csv").open() as handle:
        steps = [int(row["step"]) for row in csv.DictReader(handle)]
    tally["final_steps_each_once"] = steps == list(range(1, len(steps) + 1))
    tally["final_epochs"] = load_checkpoint(run / LAST)[1]["epoch"]
    tally["seconds"] = round(time.perf_counter() - start, 1)
    return tally


def index_kills(work: Path, kills: int, rng: random.Random) -> dict:
    """Index a gallery into the same folder again and again (a new build, or --update after an image
    was added or removed), killing each at a random moment."""
    gallery, out = work / "synth", work / "index"
    images = sorted(gallery.rglob("*.png"))
    build = ["index", "--out", out, "--model", work / "run", "--images", gallery]
    span = timed(disreid(*build))
    tally = {"kills": 0, "during_a_save": 0, "recovered": 0, "lost": 0, "unsearchable": 0, "completed": 0}
    start = time.perf_counter()
    while tally["kills"] < kills:
        moved = rng.choice(images)  # one image out or back in between runs, so that updates have work
        aside = moved.with_suffix(".aside")
        moved.rename(aside) if moved.exists() else aside.rename(moved)
        command = ["index", "--out", out, "--update"] if rng.random() < 0.5 else build
        started, delay = kill_moment(rng, span, work, "index")
        if not killed(disreid(*command), started, delay):
            tally["completed"] += 1
            continue
        tally["kills"] += 1
        tally["during_a_save"] += leftovers(work)
        tally["recovered"] += (work / ".index.old").is_dir() and not out.exists()
        try:
            index = GalleryIndex.load(out)
        except FileNotFoundError:
            tally["lost"] += 1
            continue
        if not search(index, "a woman in a red coat", "full", 5).hits:
            tally["unsearchable"] += 1
    tally["seconds"] = round(time.perf_counter() - start, 1)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=40, help="kills of training, and as many of indexing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="results file (default: benchmarks/results/faults.json)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        generate_synthpedes(
            work / "synth", 16, outfits=2, images_per_outfit=2, height=32, width=16, workers=1, progress=False
        )
        results = {"train": train_kills(work, args.kills, rng), "index": index_kills(work, args.kills, rng)}
    survived = sum(part["kills"] - part["lost"] - part.get("unsearchable", 0) for part in results.values())
    results["survived"] = survived
    results["kills"] = 2 * args.kills
    for name in ("train", "index"):
        print(f"{name}: {results[name]}")
    print(f"survived {survived} of {2 * args.kills} kills")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    else:
        print(f"wrote {save('faults', results)}")
    if survived != 2 * args.kills or not results["train"]["final_steps_each_once"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
