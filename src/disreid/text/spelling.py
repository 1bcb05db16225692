"""One spelling for words people write several ways: "gray" and "grey", "t shirt" and "tshirt", "back pack".

A word-level vocabulary (the `tiny` backbone's) knows only the spellings of its training captions, so a
query written "tee-shirt" would lose the word. Every text a model reads, in training and in search alike,
is respelled here first (`DisReID.tokenize`). `respell` also says where each character came from, so that
a word the model does not know is named as the user wrote it.
"""

from __future__ import annotations

import re

# (pattern, spelling), matched case-insensitively, in order.
SPELLINGS: tuple[tuple[str, str], ...] = (
    (r"\bgray", "grey"),  # gray, grayish
    (r"\bcolor", "colour"),  # color, colored, colorful
    (r"\bblonde\b", "blond"),
    (r"\b(?:t[ -]?shirt|tee[ -]shirt)", "t-shirt"),
    (r"\bback[ -]pack", "backpack"),
    (r"\bhand[ -]bag", "handbag"),
    (r"\bhair[ -]band", "hairband"),
    (r"\bhead[ -]band", "headband"),
    (r"\bsweat[ -]shirt", "sweatshirt"),
    (r"\bpony[ -]tail", "ponytail"),
    (r"\bflip[ -]?flop", "flip-flop"),
    (r"\bsun[ -]glasses", "sunglasses"),
    (r"\bear[ -]phone", "earphone"),
    (r"\bhead[ -]phone", "headphone"),
    (r"\bmini[ -]skirt", "miniskirt"),
    (r"\blong[ -]sleeve", "long-sleeve"),  # long sleeved, long-sleeved
    (r"\bshort[ -]sleeve", "short-sleeve"),
    # Typos of annotators, each a few times in 3,077 CUHK-PEDES captions (shared/realdata).
    (r"\bstripped\b", "striped"),
    (r"\bwhit\b", "white"),
    (r"\bwaring\b", "wearing"),
    (r"\bsand(?:les|els|las)\b", "sandals"),
    (r"\b(?:kaki|khakki|kakhi|khakhi)\b", "khaki"),
    (r"\bburgandy\b", "burgundy"),
    (r"\bsleevless\b", "sleeveless"),
    (r"\bumberl+a\b", "umbrella"),
)
_PATTERN = re.compile("|".join(f"({pattern})" for pattern, _ in SPELLINGS), re.IGNORECASE)


def respell(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`text` with one spelling for each word of `SPELLINGS`, and for each character of the result the
    span of `text` it stands for (a replaced word's characters all stand for the whole of it)."""
    pieces, origins, last = [], [], 0
    for match in _PATTERN.finditer(text):
        pieces.append(text[last : match.start()])
        origins += [(i, i + 1) for i in range(last, match.start())]
        spelling = SPELLINGS[match.lastindex - 1][1]
        pieces.append(spelling)
        origins += [match.span()] * len(spelling)
        last = match.end()
    pieces.append(text[last:])
    origins += [(i, i + 1) for i in range(last, len(text))]
    return "".join(pieces), origins


def normalise(text: str) -> str:
    """`text` as a model reads it (its case is left to the tokenizer)."""
    return respell(text)[0]
