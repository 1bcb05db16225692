"""A run folder of `disreid train` as evaluation reads it: the config and data it trained with, found from
whichever folder the command runs in (its model: `checkpoint.trained_model_dir`)."""

from __future__ import annotations

from pathlib import Path

from disreid.config import ExperimentConfig, load_config
from disreid.training.checkpoint import CONFIG_FILE, trained_model_dir


def run_config(run_dir: str | Path, data_root: str | Path | None = None) -> ExperimentConfig:
    """The config the run was trained with, its data at `data_root` when given.

    Runs record the absolute data folder. An older run's relative one is read from the current folder
    only where it exists there: SynthPedes is drawn wherever its folder is missing, and evaluating a run
    from elsewhere must not draw thousands of images into the wrong place."""
    run_dir = Path(run_dir)
    trained_model_dir(run_dir)  # a clear error for a folder that holds no run
    config = load_config(run_dir / CONFIG_FILE)
    if data_root is not None:
        config.data.root = str(data_root)
    elif not Path(config.data.root).is_absolute() and not Path(config.data.root).exists():
        raise FileNotFoundError(
            f"{run_dir} records its data as {config.data.root}, relative to the folder it was trained from, "
            f"and there is no {Path(config.data.root).resolve()}: pass the data set folder with --data"
        )
    return config
