"""PETA: real pedestrian crops with human attribute labels, captioned from the labels."""

from disreid.data.peta.attributes import factors_of
from disreid.data.peta.captions import describe
from disreid.data.peta.dataset import ANNOTATIONS, MANIFEST, SUBSETS, prepare_peta, read_peta, scan

__all__ = [
    "ANNOTATIONS",
    "MANIFEST",
    "SUBSETS",
    "describe",
    "factors_of",
    "prepare_peta",
    "read_peta",
    "scan",
]
