"""Evaluation: the rank metric, the retrieval protocols and the disentanglement report."""

from disreid.evaluation.evaluate import evaluate, evaluate_embedded, format_results
from disreid.evaluation.metrics import LazySimilarity, rank

__all__ = ["LazySimilarity", "evaluate", "evaluate_embedded", "format_results", "rank"]
