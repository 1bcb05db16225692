"""Evaluation: the rank metric, the retrieval protocols, the captions' limit and the disentanglement
report."""

from disreid.evaluation.evaluate import (
    evaluate,
    evaluate_embedded,
    format_results,
    probe_records_of,
    too_few_persons,
)
from disreid.evaluation.metrics import LazySimilarity, rank

__all__ = [
    "LazySimilarity",
    "evaluate",
    "evaluate_embedded",
    "format_results",
    "probe_records_of",
    "rank",
    "too_few_persons",
]
