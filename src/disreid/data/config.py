"""DataConfig: which data set, and how training batches are drawn from it."""

from __future__ import annotations

from dataclasses import dataclass

from disreid.data.transforms import CLIP_MEAN, CLIP_STD

BAD_RECORDS = ("skip", "refuse")  # what training does with a record it cannot use


@dataclass
class DataConfig:
    """Where the data is and how batches are drawn from it."""

    dataset: str = "synthpedes"  # a name in disreid.data.DATASETS
    root: str = "data/synthpedes"  # data set folder; SynthPedes is generated there when missing
    synth_persons: int = 200  # SynthPedes only: size of the generated set
    synth_seed: int = 0
    synth_split: tuple[float, float, float] = (0.6, 0.1, 0.3)  # train/val/test fractions of the persons
    # The splits training reads; PETA's images without identities (`unidentified`) may join `train`.
    train_splits: tuple[str, ...] = ("train",)
    persons_per_batch: int = 16  # P of the identity-balanced P×K sampler
    instances_per_person: int = 4  # K
    num_workers: int = 0
    cache_images: bool = False  # keep decoded training images in memory (small sets such as SynthPedes)
    mean: tuple[float, float, float] = CLIP_MEAN  # image normalisation
    std: tuple[float, float, float] = CLIP_STD
    flip: bool = True
    crop_padding: int = 4
    erasing_prob: float = 0.0
    mismatch_prob: float = 0.0  # chance of swapping a clothing caption for another outfit's (cloth_match)
    # Chance of each caption word being swapped for the tokenizer's unknown token in training, and of the
    # token slipping in before it: a word-level vocabulary (tiny) then reads past words it lacks.
    unknown_word_prob: float = 0.0
    # Records with a missing or undecodable image or a blank caption, found before training starts:
    # "skip" leaves them out and reports them, "refuse" stops naming them.
    bad_records: str = "skip"
