"""Who is in SynthPedes: persons, their splits, their look-alikes and the outfits they wear.

Two properties make the set a fair test of disentanglement. Some outfits are worn by two persons of
a split, so clothing alone cannot name a person; some persons are look-alikes that differ from
another person of their split in one or two identity factors, so identity must be read closely.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from disreid.data.synth.factors import (
    IDENTITY_FACTORS,
    Factors,
    fits,
    key,
    pick,
    resample_identity,
    sample_identity,
    sample_outfit,
)

SPLITS = ("train", "val", "test")
MAX_TRIES = 1000


@dataclass(frozen=True)
class Person:
    id: int  # 1-based, unique across the whole set, contiguous per split as in CUHK-PEDES
    split: str
    identity: Factors
    outfits: tuple[int, ...]  # global outfit ids


@dataclass(frozen=True)
class Population:
    persons: tuple[Person, ...]
    outfits: dict[int, Factors]  # global outfit id -> clothing factors

    def shared_outfits(self) -> int:
        """Number of outfits worn by more than one person."""
        wearers = Counter(outfit for person in self.persons for outfit in person.outfits)
        return sum(count > 1 for count in wearers.values())


def split_sizes(persons: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    """Persons per split; every split gets at least one person."""
    train = max(1, round(persons * fractions[0]))
    val = max(1, round(persons * fractions[1]))
    if persons - train - val < 1:
        raise ValueError(f"{persons} persons cannot fill the train, val and test splits; use at least 4")
    return train, val, persons - train - val


def sample_population(
    rng: np.random.Generator,
    persons: int,
    outfits: int,
    shared_outfits: float = 0.2,
    lookalikes: float = 0.25,
    split_fractions: tuple[float, float, float] = (0.6, 0.1, 0.3),
) -> Population:
    """Persons with distinct identities, each wearing `outfits` distinct outfits.

    `shared_outfits` is the fraction of outfit ids worn by two persons; `lookalikes` the chance that a
    person is drawn as a look-alike of an earlier person of the same split.
    """
    if outfits < 1:
        raise ValueError("every person needs at least one outfit")
    splits = [
        split
        for split, size in zip(SPLITS, split_sizes(persons, split_fractions), strict=True)
        for _ in range(size)
    ]
    identities = _sample_identities(rng, splits, lookalikes)
    wardrobes = _share(rng, _dress(rng, identities, outfits), identities, splits, shared_outfits)
    outfit_ids: dict[tuple[str, ...], int] = {}
    catalogue: dict[int, Factors] = {}
    people = []
    for index, (split, identity, wardrobe) in enumerate(zip(splits, identities, wardrobes, strict=True)):
        for outfit in wardrobe:
            if key(outfit) not in outfit_ids:
                outfit_ids[key(outfit)] = len(outfit_ids) + 1
                catalogue[outfit_ids[key(outfit)]] = outfit
        ids = tuple(outfit_ids[key(outfit)] for outfit in wardrobe)
        people.append(Person(id=index + 1, split=split, identity=identity, outfits=ids))
    return Population(persons=tuple(people), outfits=catalogue)


def _sample_identities(rng: np.random.Generator, splits: list[str], lookalikes: float) -> list[Factors]:
    identities: list[Factors] = []
    seen: set[tuple[str, ...]] = set()
    for split in splits:
        same_split = identities[splits.index(split) :]  # a split's persons are contiguous
        for _ in range(MAX_TRIES):
            if same_split and rng.random() < lookalikes:
                candidate = resample_identity(rng, pick(rng, same_split), changes=1 + int(rng.integers(2)))
            else:
                candidate = sample_identity(rng)
            if key(candidate) not in seen:
                break
        else:
            space = np.prod([len(values) for values in IDENTITY_FACTORS.values()])
            raise ValueError(f"{len(splits)} persons are too many for about {space} distinct identities")
        seen.add(key(candidate))
        identities.append(candidate)
    return identities


def _dress(rng: np.random.Generator, identities: list[Factors], outfits: int) -> list[list[Factors]]:
    """A wardrobe of distinct outfits per person, no outfit worn twice in the whole set (yet)."""
    seen: set[tuple[str, ...]] = set()
    wardrobes = []
    for identity in identities:
        wardrobe = []
        while len(wardrobe) < outfits:
            outfit = sample_outfit(rng, identity["gender"])
            if key(outfit) not in seen:
                seen.add(key(outfit))
                wardrobe.append(outfit)
        wardrobes.append(wardrobe)
    return wardrobes


def _share(
    rng: np.random.Generator,
    wardrobes: list[list[Factors]],
    identities: list[Factors],
    splits: list[str],
    shared_outfits: float,
) -> list[list[Factors]]:
    """Give some outfits a second wearer of the same split.

    Slots are paired at random and the second slot of a pair takes the first slot's outfit; pairs never
    overlap, so an outfit has at most two wearers. With c copies among n slots there are n - c outfit
    ids of which c are shared, hence c = n * f / (1 + f) for a shared fraction f.
    """
    for split in SPLITS:
        slots = [
            (p, k) for p, wardrobe in enumerate(wardrobes) if splits[p] == split for k in range(len(wardrobe))
        ]
        target = round(len(slots) * shared_outfits / (1 + shared_outfits))
        order = rng.permutation(len(slots))
        copies = 0
        for a, b in zip(order[::2], order[1::2], strict=False):  # an odd slot out keeps its outfit
            if copies == target:
                break
            (p, j), (q, k) = slots[a], slots[b]
            if p != q and fits(wardrobes[p][j], identities[q]):
                wardrobes[q][k] = wardrobes[p][j]
                copies += 1
    return wardrobes
