"""`disreid.metrics.rank`: the retrieval metric, under the short name the field's code bases use."""

from disreid.evaluation.metrics import rank

__all__ = ["rank"]
