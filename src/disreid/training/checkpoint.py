"""Training checkpoints: the model as `save_pretrained` writes it, and beside it everything needed to
continue exactly where training stopped (optimizer, scheduler, counters, random number generators)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from disreid.io import atomic_directory
from disreid.model import DisReID

MODEL_DIR = "model"
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
    with atomic_directory(directory) as staging:
        model.save_pretrained(staging / MODEL_DIR)
        torch.save({**trainer_state, "rng": rng_state()}, staging / STATE_FILE)


def load_trainer_state(directory: Path) -> dict[str, Any]:
    """The state saved beside the model. Only tensors and plain containers are read (no pickled code)."""
    path = Path(directory) / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {directory} is not a training checkpoint")
    return torch.load(path, map_location="cpu", weights_only=True)
