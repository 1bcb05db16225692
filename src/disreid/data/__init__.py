"""Data: annotation readers, datasets, transforms and the identity-balanced sampler."""

from disreid.data.annotations import (
    AnnotationError,
    ImageRecord,
    read_cuhk_pedes,
    read_icfg_pedes,
    read_rstpreid,
)
from disreid.data.build import BENCHMARKS, DATASETS, Benchmark, load_records, register_dataset
from disreid.data.config import DataConfig
from disreid.data.datasets import CaptionPairs, CaptionQueries, GalleryImages, ImageReadError, load_image
from disreid.data.sampler import IdentityBatchSampler
from disreid.data.transforms import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, build_transforms

__all__ = [
    "BENCHMARKS",
    "CLIP_MEAN",
    "CLIP_STD",
    "DATASETS",
    "DataConfig",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "AnnotationError",
    "Benchmark",
    "CaptionPairs",
    "CaptionQueries",
    "GalleryImages",
    "IdentityBatchSampler",
    "ImageReadError",
    "ImageRecord",
    "build_transforms",
    "load_image",
    "load_records",
    "read_cuhk_pedes",
    "read_icfg_pedes",
    "read_rstpreid",
    "register_dataset",
]
