"""A run folder of `disreid train` as evaluation reads it: the model it trained and the data it trained on,
found from whichever folder the command runs in."""

from __future__ import annotations

from pathlib import Path

from disreid.config import ExperimentConfig, load_config
from disreid.training.checkpoint import MODEL_DIR
from disreid.training.trainer import BEST, LAST

CONFIG_FILE = "config.yaml"


def run_model_dir(run_dir: str | Path) -> Path:
    """The run's best model, else its last, with an error that says what is wrong with the folder."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder at {run_dir}: pass the --out folder of `disreid train`")
    if not (run_dir / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder of `disreid train`: it has no {CONFIG_FILE}")
    for name in (BEST, LAST):
        if (run_dir / name / MODEL_DIR).is_dir():
            return run_dir / name / MODEL_DIR
    raise FileNotFoundError(f"{run_dir} holds no trained model ({BEST}/{MODEL_DIR} or {LAST}/{MODEL_DIR})")


def run_config(run_dir: str | Path, data_root: str | Path | None = None) -> ExperimentConfig:
    """The config the run was trained with, its data at `data_root` when given.

    Runs record the absolute data folder. An older run's relative one is read from the current folder
    only where it exists there: SynthPedes is drawn wherever its folder is missing, and evaluating a run
    from elsewhere must not draw thousands of images into the wrong place."""
    run_dir = Path(run_dir)
    run_model_dir(run_dir)  # a clear error for a folder that holds no run
    config = load_config(run_dir / CONFIG_FILE)
    if data_root is not None:
        config.data.root = str(data_root)
    elif not Path(config.data.root).is_absolute() and not Path(config.data.root).exists():
        raise FileNotFoundError(
            f"{run_dir} records its data as {config.data.root}, relative to the folder it was trained from, "
            f"and there is no {Path(config.data.root).resolve()}: pass the data set folder with --data"
        )
    return config
