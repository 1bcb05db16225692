"""The building blocks of generated captions that know what they state (SynthPedes' and PETA's).

A caption is a list of sentences, each a list of spans labelled identity or clothing (or None for the
glue between clauses). Every phrase carries the factor values its words state ("a red coat": upper
coat, upper_colour red; "she": gender female), so each part of a caption knows what it says without
being parsed back: the captions' limit in `evaluation.oracle` reads it.

The ground-truth parts are the caption's clauses of each kind in caption order, exact substrings of
it: clauses of one sentence are joined by a space, sentences by ". ".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

Value = str | list[str]  # a factor's value, or its values (a black and white top)
Stated = dict[str, Value]  # factor -> what words state of it


@dataclass(frozen=True)
class Phrase:
    """Words and the factor values they state."""

    text: str
    stated: Stated

    def __add__(self, other: Phrase | str) -> Phrase:
        if isinstance(other, str):
            return Phrase(self.text + other, self.stated)
        return Phrase(self.text + other.text, {**self.stated, **other.stated})

    def __radd__(self, other: str) -> Phrase:
        return Phrase(other + self.text, self.stated)


Span = tuple[str | None, Phrase | str]  # (label, words); label None marks glue between clauses
Sentence = list[Span]


@dataclass(frozen=True)
class Caption:
    text: str
    identity: str  # the identity clauses, as defined in the module docstring
    clothing: str  # the clothing clauses
    identity_stated: Stated  # the factor values the identity clauses state
    clothing_stated: Stated  # and the clothing clauses


def and_join(items: list[Phrase]) -> Phrase:
    """Join as "a", "a and b" or "a, b and c"."""
    joined = items[0]
    for index, item in enumerate(items[1:], start=2):
        joined = joined + (" and " if index == len(items) else ", ") + item
    return joined


def with_article(phrase: Phrase, plurals: Collection[str]) -> Phrase:
    """ "a"/"an" before a phrase, unless its last word is one of `plurals` ("jeans")."""
    if phrase.text.split(" ")[-1] in plurals:
        return phrase
    return ("an " if phrase.text[0] in "aeiou" else "a ") + phrase


def assemble(sentences: list[Sentence]) -> Caption:
    """The caption of `sentences`, its two parts and what each part states."""
    text = " ".join("".join(text_of(words) for _, words in sentence) for sentence in sentences)
    identity, identity_stated = _part(sentences, "identity")
    clothing, clothing_stated = _part(sentences, "clothing")
    return Caption(text, identity, clothing, identity_stated, clothing_stated)


def _part(sentences: list[Sentence], label: str) -> tuple[str, Stated]:
    """The clauses of one kind, joined as the module docstring says, and what they state."""
    clauses, stated = [], {}
    for sentence in sentences:
        phrases = [words for kind, words in sentence if kind == label]
        if phrases:
            clauses.append(" ".join(map(text_of, phrases)))
            for phrase in phrases:
                if isinstance(phrase, Phrase):
                    stated.update(phrase.stated)
    return (". ".join(clauses) + ".") if clauses else "", stated


def text_of(words: Phrase | str) -> str:
    return words if isinstance(words, str) else words.text
