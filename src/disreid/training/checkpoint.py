"""Training checkpoints: the model as `save_pretrained` writes it, and beside it everything needed to
continue exactly where training stopped (optimizer, scheduler, counters, random number generators)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from disreid.io import atomic_directory, current, reading, writing
from disreid.model import DisReID

LAST, BEST = "last", "best"  # the run folder's checkpoint (for --resume) and its best model
CONFIG_FILE, MODEL_DIR = "config.yaml", "model"
STATE_FILE = "trainer_state.pt"


def rng_state() -> dict[str, Any]:
    numpy_state = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (numpy_state[0], torch.from_numpy(numpy_state[1].copy()), *numpy_state[2:]),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy(), *rest))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(directory: Path, model: DisReID, trainer_state: dict[str, Any]) -> None:
    """Write `directory` atomically: a crash while saving leaves the previous checkpoint whole."""
    with writing(directory), atomic_directory(directory) as staging:
        model.save_pretrained(staging / MODEL_DIR)
        torch.save({**trainer_state, "rng": rng_state()}, staging / STATE_FILE)


def has_checkpoint(directory: Path) -> bool:
    return (current(directory) / STATE_FILE).is_file()


def trainer_state(directory: Path) -> dict[str, Any] | None:
    """The trainer state of a checkpoint (epoch, step, optimizer...), or of the copy an interrupted save
    left aside, without its model; None where there is none. Only tensors and plain containers are read."""
    path = current(directory) / STATE_FILE
    if not path.is_file():
        return None
    with reading(path):
        return torch.load(path, map_location="cpu", weights_only=True)


def load_checkpoint(directory: Path) -> tuple[DisReID, dict[str, Any]]:
    """The model and trainer state of a checkpoint, or of the copy an interrupted save left aside."""
    directory = current(directory)
    state = trainer_state(directory)
    if state is None:
        raise FileNotFoundError(
            f"{directory / STATE_FILE} is missing: {directory} is not a training checkpoint"
        )
    return DisReID.from_pretrained(directory / MODEL_DIR), state


def trained_model_dir(run_dir: Path) -> Path:
    """The run's best model, else its last, with an error that says what is wrong with the folder."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder at {run_dir}: pass the --out folder of `disreid train`")
    if not (run_dir / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder of `disreid train`: it has no {CONFIG_FILE}")
    for name in (BEST, LAST):
        model_dir = current(current(run_dir / name) / MODEL_DIR)
        if model_dir.is_dir():
            return model_dir
    raise FileNotFoundError(f"{run_dir} holds no trained model ({BEST}/{MODEL_DIR} or {LAST}/{MODEL_DIR})")
