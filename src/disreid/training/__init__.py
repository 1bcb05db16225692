"""The training engine: optimizer and schedule, checkpoints, and the Trainer that runs an experiment."""

from disreid.training.checkpoint import BEST, LAST, trained_model_dir
from disreid.training.trainer import Trainer

__all__ = ["BEST", "LAST", "Trainer", "trained_model_dir"]
