"""The training engine: optimizer and schedule, checkpoints, and the Trainer that runs an experiment."""

from disreid.training.trainer import BEST, LAST, Trainer

__all__ = ["BEST", "LAST", "Trainer"]
