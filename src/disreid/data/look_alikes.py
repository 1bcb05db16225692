"""Persons who read alike: the nearest neighbours of each training person by the words of their captions.

A P×K batch of persons drawn at random is mostly told apart by its most visible words (a hair colour, a
height), so the contrastive losses never ask the identity part for the rest (the hair style, the
build). Batches that hold groups of look-alikes do (`IdentityBatchSampler(look_alike_group=...)`).
Each person is the TF-IDF vector of the words of their identity captions (the whole captions where a
data set has no parts), over the most frequent words, so that it scales to CUHK-PEDES's 11,003 persons.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from disreid.data.annotations import ImageRecord

WORD = re.compile(r"[a-z]+")


def person_word_vectors(records: Sequence[ImageRecord], vocabulary: int = 2048) -> np.ndarray:
    """`[persons, words]` unit TF-IDF vectors, one row per person in ascending person id."""
    words_by_person: dict[int, Counter[str]] = {}
    for record in records:
        parts = record.identity_captions or record.captions
        words = words_by_person.setdefault(record.person_id, Counter())
        for part, whole in zip(parts, record.captions, strict=True):  # an empty part: the whole caption
            words.update(WORD.findall((part or whole).lower()))
    persons = [words_by_person[person] for person in sorted(words_by_person)]
    frequency = Counter(word for words in persons for word in words)  # persons whose captions use it
    kept = [word for word, _ in frequency.most_common(vocabulary)]
    column = {word: index for index, word in enumerate(kept)}
    vectors = np.zeros((len(persons), len(kept)), dtype=np.float32)
    for row, words in enumerate(persons):
        for word, count in words.items():
            if word in column:
                vectors[row, column[word]] = count
    vectors *= np.log(len(persons) / np.array([frequency[word] for word in kept], dtype=np.float32))
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def nearest_persons(vectors: np.ndarray, count: int = 32, block: int = 1024) -> np.ndarray:
    """`[persons, count]`: each person's most similar others, most similar first (cosine, in blocks of
    rows so that the similarity matrix is never whole)."""
    count = min(count, len(vectors) - 1)
    neighbours = np.empty((len(vectors), count), dtype=np.int64)
    for start in range(0, len(vectors), block):
        similarity = vectors[start : start + block] @ vectors.T
        rows = np.arange(similarity.shape[0])
        similarity[rows, start + rows] = -np.inf  # not oneself
        top = np.argpartition(-similarity, count - 1, axis=1)[:, :count] if count else similarity[:, :0]
        order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable")
        neighbours[start : start + block] = np.take_along_axis(top, order, axis=1)
    return neighbours
