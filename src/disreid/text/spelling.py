"""One spelling for words people write several ways: "gray" and "grey", "t shirt" and "tshirt", "back pack".

A word-level vocabulary (the `tiny` backbone's) knows only the spellings of its training captions, so a
query written "tee-shirt" would lose the word. The word tokenizer runs these replacements after lower-
casing, in training and in every search alike; the spans of the original text are kept, so that a word
the model does not know is still named as the user wrote it.
"""

from __future__ import annotations

from tokenizers import Regex, normalizers

# (pattern, replacement) on lower-cased text, in order. A replacement is literal text (no groups), so a
# pattern takes only the part that changes: "back pack" and "back packs" both lose their space.
SPELLINGS: tuple[tuple[str, str], ...] = (
    (r"\bgray", "grey"),  # gray, grayish
    (r"\bcolor", "colour"),  # color, colored, colorful
    (r"\bblonde\b", "blond"),
    (r"\bt[ -]?shirt", "t-shirt"),  # t shirt, tshirt
    (r"\btee[ -]shirt", "t-shirt"),
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
)


def spelling_normalizer() -> normalizers.Normalizer:
    """A `tokenizers` normalizer that lower-cases (after NFKC) and applies `SPELLINGS`."""
    return normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Lowercase()]
        + [normalizers.Replace(Regex(pattern), replacement) for pattern, replacement in SPELLINGS]
    )


def normalise(text: str) -> str:
    """`text` as the word tokenizer reads it, for checking a spelling by hand."""
    return spelling_normalizer().normalize_str(text)

