"""One spelling for words people write several ways: "gray" and "grey", "t shirt" and "tshirt", "back pack".

A word-level vocabulary (the `tiny` backbone's) knows only the spellings of its training captions, so a
query written "tee-shirt" would lose the word. The word tokenizer (`model.tokenizer.build_word_tokenizer`)
respells every text it reads, in training and in search alike, with `spelling_normalizers`; a pretrained
tokenizer (CLIP's) reads every spelling already and is left as its checkpoint made it. `respell` does the
same in Python and says where each character came from, so that a word the model does not know is named
as the user wrote it (the tokenizer's own offsets lose track of replaced words). Each pattern matches only
spellings other than the one it writes, so that respelled text is left as it is.
"""

from __future__ import annotations

import re

from tokenizers import Regex, normalizers

# (pattern, spelling), on lower-cased text (`respell` ignores case), in order.
SPELLINGS: tuple[tuple[str, str], ...] = (
    (r"\bgray", "grey"),  # gray, grayish
    (r"\bcolor", "colour"),  # color, colored, colorful
    (r"\bblonde\b", "blond"),
    (r"\b(?:t ?shirt|tee[ -]shirt)", "t-shirt"),
    (r"\bback[ -]pack", "backpack"),
    (r"\bhand[ -]bag", "handbag"),
    (r"\bhair[ -]band", "hairband"),
    (r"\bhead[ -]band", "headband"),
    (r"\bsweat[ -]shirt", "sweatshirt"),
    (r"\bpony[ -]tail", "ponytail"),
    (r"\bflip ?flop", "flip-flop"),
    (r"\bsun[ -]glasses", "sunglasses"),
    (r"\bear[ -]phone", "earphone"),
    (r"\bhead[ -]phone", "headphone"),
    (r"\bmini[ -]skirt", "miniskirt"),
    (r"\blong sleeve", "long-sleeve"),  # long sleeved
    (r"\bshort sleeve", "short-sleeve"),
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
    """`text` respelled (its case is left to the tokenizer)."""
    return respell(text)[0]


def spelling_normalizers() -> list[normalizers.Normalizer]:
    """`SPELLINGS` as `tokenizers` normalizers, to follow lower-casing in a tokenizer's normalizer."""
    return [normalizers.Replace(Regex(pattern), spelling) for pattern, spelling in SPELLINGS]
