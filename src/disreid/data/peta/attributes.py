"""PETA's attribute names and the factors disreid reads from them.

PETA (Deng et al., ACM MM 2014) labels each person with binary attributes (`upperBodyJacket`) and four
colour attributes of 11 colours (`upperBodyRed`). disreid turns one person's names into factors as
SynthPedes records them, `{"identity": {...}, "clothing": {...}}`, so that the captions' limit and
the leakage probes read real photos as they read drawn ones.

A factor's value is a string, or a sorted list where the labels give several (a black and white top,
a backpack and a plastic bag). A factor is left out where the labels give no value of it (no footwear
colour where the feet were not labelled). Binary attributes are labelled exhaustively, so their
absence is a value ("no" stockings, no pattern: "plain"), which a probe reads but no caption states.
"""

from __future__ import annotations

from collections.abc import Iterable

from disreid.data.grammar import Value

Factors = dict[str, Value]

PETA_COLOURS = (
    "Black",
    "Blue",
    "Brown",
    "Green",
    "Grey",
    "Orange",
    "Pink",
    "Purple",
    "Red",
    "White",
    "Yellow",
)
COLOURED_PARTS = {"hair": "hair_colour", "upperBody": "upper_colour", "lowerBody": "lower_colour",
                  "footwear": "footwear_colour"}  # fmt: skip

# Binary attribute -> (kind, factor, value). Ages are PETA's bands; "Less30" is 16 to 30, and so on.
BINARY: dict[str, tuple[str, str, str]] = {
    "personalMale": ("identity", "gender", "male"),
    "personalFemale": ("identity", "gender", "female"),
    "personalLess15": ("identity", "age", "under 16"),
    "personalLess30": ("identity", "age", "16-30"),
    "personalLess45": ("identity", "age", "31-45"),
    "personalLess60": ("identity", "age", "46-60"),
    "personalLarger60": ("identity", "age", "over 60"),
    "hairLong": ("identity", "hair", "long"),
    "hairShort": ("identity", "hair", "short"),
    "hairBald": ("identity", "hair", "bald"),
    "upperBodyTshirt": ("clothing", "upper", "t-shirt"),
    "upperBodyJacket": ("clothing", "upper", "jacket"),
    "upperBodySuit": ("clothing", "upper", "suit"),
    "upperBodySweater": ("clothing", "upper", "sweater"),
    "upperBodyOther": ("clothing", "upper", "other"),
    "upperBodyLongSleeve": ("clothing", "sleeves", "long"),
    "upperBodyShortSleeve": ("clothing", "sleeves", "short"),
    "upperBodyNoSleeve": ("clothing", "sleeves", "none"),
    "upperBodyPlaid": ("clothing", "upper_pattern", "plaid"),
    "upperBodyThinStripes": ("clothing", "upper_pattern", "stripes"),
    "upperBodyThickStripes": ("clothing", "upper_pattern", "stripes"),
    "upperBodyLogo": ("clothing", "upper_pattern", "logo"),
    "upperBodyVNeck": ("clothing", "neckline", "v-neck"),
    "upperBodyCasual": ("clothing", "upper_style", "casual"),
    "upperBodyFormal": ("clothing", "upper_style", "formal"),
    "lowerBodyTrousers": ("clothing", "lower", "trousers"),
    "lowerBodyJeans": ("clothing", "lower", "jeans"),
    "lowerBodyShorts": ("clothing", "lower", "shorts"),
    "lowerBodyShortSkirt": ("clothing", "lower", "short skirt"),
    "lowerBodyLongSkirt": ("clothing", "lower", "long skirt"),
    "lowerBodyCapri": ("clothing", "lower", "capri"),
    "lowerBodyHotPants": ("clothing", "lower", "hot pants"),
    "lowerBodySuits": ("clothing", "lower", "suit trousers"),
    "lowerBodyPlaid": ("clothing", "lower_pattern", "plaid"),
    "lowerBodyThinStripes": ("clothing", "lower_pattern", "stripes"),
    "lowerBodyThickStripes": ("clothing", "lower_pattern", "stripes"),  # dropped from PETA's 61
    "lowerBodyLogo": ("clothing", "lower_pattern", "logo"),  # dropped from PETA's 61: under 10 images
    "lowerBodyCasual": ("clothing", "lower_style", "casual"),
    "lowerBodyFormal": ("clothing", "lower_style", "formal"),
    "footwearShoes": ("clothing", "footwear", "shoes"),
    "footwearLeatherShoes": ("clothing", "footwear", "leather shoes"),
    "footwearSneakers": ("clothing", "footwear", "sneakers"),
    "footwearSneaker": ("clothing", "footwear", "sneakers"),  # the spelling of PETA's ReadMe
    "footwearBoots": ("clothing", "footwear", "boots"),
    "footwearSandals": ("clothing", "footwear", "sandals"),
    "footwearStocking": ("clothing", "stockings", "yes"),
    "carryingBackpack": ("clothing", "carrying", "backpack"),
    "carryingMessengerBag": ("clothing", "carrying", "messenger bag"),
    "carryingPlasticBags": ("clothing", "carrying", "plastic bag"),
    "carryingSuitcase": ("clothing", "carrying", "suitcase"),
    "carryingLuggageCase": ("clothing", "carrying", "luggage case"),
    "carryingFolder": ("clothing", "carrying", "folder"),
    "carryingBabyBuggy": ("clothing", "carrying", "baby buggy"),
    "carryingShoppingTro": ("clothing", "carrying", "shopping trolley"),
    "carryingUmbrella": ("clothing", "carrying", "umbrella"),
    "carryingOther": ("clothing", "carrying", "other"),
    "carryingNothing": ("clothing", "carrying", "nothing"),
    "accessoryHat": ("clothing", "accessory", "hat"),
    "accessorySunglasses": ("clothing", "accessory", "sunglasses"),
    "accessoryHairBand": ("clothing", "accessory", "hair band"),
    "accessoryMuffler": ("clothing", "accessory", "scarf"),
    "accessoryHeadphone": ("clothing", "accessory", "headphones"),
    "accessoryKerchief": ("clothing", "accessory", "kerchief"),
    "accessoryFaceMask": ("clothing", "accessory", "face mask"),  # dropped from PETA's 61
    "accessoryShawl": ("clothing", "accessory", "shawl"),  # dropped from PETA's 61
    "accessoryNothing": ("clothing", "accessory", "nothing"),
}
# Exhaustive binary attributes: where none is labelled, the factor takes this value.
ABSENT = {"upper_pattern": "plain", "neckline": "other", "lower_pattern": "plain", "stockings": "no"}
# Where the labels give two values of a factor that has one, these win: a bald head is often also
# labelled short.
PRECEDENCE = {"hair": ("bald",)}

COLOUR_NAMES = {"yellow": "blond"}  # PETA's yellow hair is what people call blond
KNOWN = frozenset(BINARY) | {f"{part}{colour}" for part in COLOURED_PARTS for colour in PETA_COLOURS}
IDENTITY_FACTORS = ("gender", "age", "hair", "hair_colour")


def factors_of(names: Iterable[str]) -> dict[str, Factors]:
    """The identity and clothing factors of a person's attribute names. Names PETA does not know are
    ignored here: the reader reports them."""
    values: dict[str, dict[str, set[str]]] = {"identity": {}, "clothing": {}}
    for name in names:
        if name in BINARY:
            kind, factor, value = BINARY[name]
        elif name in KNOWN:  # a colour
            part = next(part for part in COLOURED_PARTS if name.startswith(part))
            factor, colour = COLOURED_PARTS[part], name[len(part) :].lower()
            kind = "identity" if factor == "hair_colour" else "clothing"
            value = COLOUR_NAMES.get(colour, colour) if factor == "hair_colour" else colour
        else:
            continue
        values[kind].setdefault(factor, set()).add(value)
    factors: dict[str, Factors] = {"identity": {}, "clothing": {}}
    for kind, found in values.items():
        for factor, given in found.items():
            for preferred in PRECEDENCE.get(factor, ()):
                if preferred in given:
                    given = {preferred}
            if "nothing" in given and len(given) > 1:  # "nothing" beside a thing: the thing
                given = given - {"nothing"}
            factors[kind][factor] = next(iter(given)) if len(given) == 1 else sorted(given)
    for factor, value in ABSENT.items():
        factors["clothing"].setdefault(factor, value)
    return factors


def single(value: Value | None) -> str | None:
    """The value of a factor that has exactly one, else None (several, or none labelled)."""
    return value if isinstance(value, str) else None
