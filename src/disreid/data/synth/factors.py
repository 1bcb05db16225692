"""The factor vocabularies of SynthPedes and the sampling of one person's identity or one outfit.

Every value is a plain string, so records stay JSON and the vocabulary is the single source of truth
for the drawing (colours, shapes) and the captions (words).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TypeVar

import numpy as np

Factors = dict[str, str]
T = TypeVar("T")

IDENTITY_FACTORS: dict[str, tuple[str, ...]] = {
    "gender": ("male", "female"),
    "skin": ("pale", "light", "tan", "brown", "dark"),
    "hair_colour": ("black", "brown", "blond", "red", "grey"),
    "hair_style": ("short", "long", "ponytail", "bun", "curly"),
    "height": ("short", "average", "tall"),
    "build": ("slim", "average", "heavy"),
    "eyewear": ("none", "glasses", "sunglasses"),
    "beard": ("none", "beard"),
}

GARMENT_COLOURS = (
    "black",
    "white",
    "grey",
    "red",
    "blue",
    "green",
    "yellow",
    "pink",
    "purple",
    "orange",
    "brown",
)
CLOTHING_FACTORS: dict[str, tuple[str, ...]] = {
    "upper": ("t-shirt", "shirt", "jacket", "coat", "hoodie", "tank top"),
    "upper_colour": GARMENT_COLOURS,
    "lower": ("trousers", "jeans", "shorts", "skirt", "long skirt"),
    "lower_colour": GARMENT_COLOURS,
    "shoes_colour": ("black", "white", "brown", "red", "blue", "grey"),
    "bag": ("none", "backpack", "shoulder bag", "handbag"),
    "bag_colour": ("none", *GARMENT_COLOURS),
}

# Priors that make the population look like a street crowd; the rest is uniform.
HAIR_STYLE_WEIGHTS = {"male": (0.45, 0.1, 0.1, 0.1, 0.25), "female": (0.15, 0.3, 0.25, 0.15, 0.15)}
BEARD_RATE = 0.35
NO_BAG_RATE = 0.35
FEMALE_ONLY_LOWER = ("skirt", "long skirt")


def pick(rng: np.random.Generator, values: Sequence[T], weights: Sequence[float] | None = None) -> T:
    """One element of `values`, as the element itself (numpy's choice would turn strings into np.str_)."""
    if weights is None:
        return values[int(rng.integers(len(values)))]
    return values[int(rng.choice(len(values), p=np.asarray(weights) / np.sum(weights)))]


def sample_identity(rng: np.random.Generator) -> Factors:
    identity = {name: pick(rng, values) for name, values in IDENTITY_FACTORS.items()}
    gender = identity["gender"]
    identity["hair_style"] = pick(rng, IDENTITY_FACTORS["hair_style"], HAIR_STYLE_WEIGHTS[gender])
    identity["beard"] = "beard" if gender == "male" and rng.random() < BEARD_RATE else "none"
    return identity


def resample_identity(rng: np.random.Generator, identity: Factors, changes: int) -> Factors:
    """A look-alike of `identity` that differs in exactly `changes` factors: a hard negative.

    Gender stays, so the look-alike is a plausible confusion and never needs a new beard or hair prior.
    """
    mutable = [name for name in IDENTITY_FACTORS if name != "gender"]
    if identity["gender"] == "female":
        mutable.remove("beard")
    changed = dict(identity)
    for index in rng.permutation(len(mutable))[:changes]:
        name = mutable[index]
        changed[name] = pick(rng, [value for value in IDENTITY_FACTORS[name] if value != identity[name]])
    return changed


def sample_outfit(rng: np.random.Generator, gender: str) -> Factors:
    bag = "none" if rng.random() < NO_BAG_RATE else pick(rng, CLOTHING_FACTORS["bag"][1:])
    lowers = CLOTHING_FACTORS["lower"]
    if gender == "male":
        lowers = tuple(value for value in lowers if value not in FEMALE_ONLY_LOWER)
    outfit = {
        "upper": pick(rng, CLOTHING_FACTORS["upper"]),
        "upper_colour": pick(rng, GARMENT_COLOURS),
        "lower": pick(rng, lowers),
        "lower_colour": pick(rng, GARMENT_COLOURS),
        "shoes_colour": pick(rng, CLOTHING_FACTORS["shoes_colour"]),
        "bag": bag,
    }
    # A bag of the garment's own colour would vanish against it on a small crop, as few real ones do.
    worn = (outfit["upper_colour"], outfit["lower_colour"])
    bag_colours = [colour for colour in GARMENT_COLOURS if colour not in worn]
    outfit["bag_colour"] = "none" if bag == "none" else pick(rng, bag_colours)
    return outfit


def fits(outfit: Factors, identity: Factors) -> bool:
    """Whether a person of `identity` may wear `outfit` (the priors of `sample_outfit`, as a test)."""
    return identity["gender"] == "female" or outfit["lower"] not in FEMALE_ONLY_LOWER


HIDDEN_BY = {  # factor -> the part that shows it
    "eyewear": "face",
    "beard": "face",
    "shoes_colour": "shoes",
    "bag": "bag",
    "bag_colour": "bag",
}


def shown(factor: str, factors: dict[str, Factors], hidden: Collection[str]) -> bool:
    """Whether an image of a person with `factors` ({"identity": ..., "clothing": ...}), in which the parts
    `hidden` cannot be seen, shows the value of `factor`, so that a caption of it may state it."""
    if HIDDEN_BY.get(factor) in hidden:
        return False
    return factor != "bag_colour" or factors["clothing"]["bag"] != "none"


def key(factors: Factors) -> tuple[str, ...]:
    """A hashable form of a factor dict, to keep identities and outfits distinct."""
    return tuple(factors[name] for name in sorted(factors))
