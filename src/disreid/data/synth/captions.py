"""Captions in the style of CUHK-PEDES, with their identity and clothing parts kept apart.

A caption is built from clauses, each labelled identity or clothing as in the labelling convention of
the real captions (a noun-phrase subject such as "A tall woman" is identity; a pronoun stays with its
verb, so "She carries a black backpack" is clothing). Variety comes from synonyms, the order of the
clauses, where an attribute goes (subject, "with" phrase or its own sentence) and omitted attributes.
Captions name only what the image shows: the face's details (glasses, beard) only when it faces the
camera, the shoes unless an object hides the feet, a bag unless it is mostly behind a pole; hair, skin
and build show from every side.

Phrases, parts and what each part states are `disreid.data.grammar`'s.
"""

from __future__ import annotations

import numpy as np

from disreid.data.grammar import Caption, Phrase, Sentence, and_join, assemble, with_article
from disreid.data.synth.factors import GARMENT_COLOURS, Factors, pick

GENDER_NOUNS = {"male": ("man", "guy", "gentleman"), "female": ("woman", "lady", "girl")}
PRONOUNS = {"male": ("he", "his"), "female": ("she", "her")}
BODY_WORDS = {
    "height": {"short": ("short",), "average": (), "tall": ("tall",)},
    "build": {
        "slim": ("slim", "thin", "slender"),
        "average": (),
        "heavy": ("heavy", "heavy-set", "stocky", "chubby"),
    },
}
SKIN_WORDS = {
    "pale": ("pale", "fair"),
    "light": ("light",),
    "tan": ("tan", "tanned"),
    "brown": ("brown",),
    "dark": ("dark",),
}
HAIR_COLOUR_WORDS = {
    "black": ("black", "dark"),
    "brown": ("brown",),
    "blond": ("blond", "blonde"),
    "red": ("red", "ginger"),
    "grey": ("grey", "gray", "silver"),
}
# "{c}" is the hair colour followed by a space, or nothing when the colour is left out.
HAIR_PHRASES = {
    "short": ("short {c}hair", "{c}hair cut short"),
    "long": ("long {c}hair", "long {c}hair down to {his} shoulders"),
    "ponytail": ("{c}hair in a ponytail", "{c}hair tied back in a ponytail", "a {c}ponytail"),
    "bun": ("{c}hair in a bun", "{c}hair tied up in a bun"),
    "curly": ("curly {c}hair", "{c}curly hair"),
}
EYEWEAR_WORDS = {"glasses": ("glasses", "eyeglasses", "spectacles"), "sunglasses": ("sunglasses", "shades")}
BEARD_WORDS = ("a beard", "a full beard")
COLOUR_WORDS = {colour: ("grey", "gray") if colour == "grey" else (colour,) for colour in GARMENT_COLOURS}
GARMENT_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "upper": {
        "t-shirt": ("t-shirt", "tee", "short-sleeved shirt"),
        "shirt": ("shirt", "long-sleeved shirt", "button-up shirt"),
        "jacket": ("jacket", "zip-up jacket", "windbreaker"),
        "coat": ("coat", "long coat", "overcoat"),
        "hoodie": ("hoodie", "hooded sweatshirt", "hooded top"),
        "tank top": ("tank top", "sleeveless top", "vest top"),
    },
    "lower": {
        "trousers": ("trousers", "pants", "slacks"),
        "jeans": ("jeans", "denim jeans"),
        "shorts": ("shorts",),
        "skirt": ("skirt", "short skirt", "miniskirt"),
        "long skirt": ("long skirt", "maxi skirt", "ankle-length skirt"),
    },
    "shoes": {"shoes": ("shoes", "sneakers", "trainers")},
    "bag": {
        "backpack": ("backpack", "rucksack"),
        "shoulder bag": ("shoulder bag", "messenger bag", "crossbody bag"),
        "handbag": ("handbag", "purse", "tote bag"),
    },
}
PLURALS = ("trousers", "pants", "slacks", "jeans", "denim jeans", "shorts", "shoes", "sneakers", "trainers")
BAG_PLACES = {"backpack": "on {his} back", "shoulder bag": "over {his} shoulder", "handbag": "in {his} hand"}
WEAR_VERBS = ("is wearing", "wears", "is dressed in", "has on")
ITEM_VERBS = ("wears", "is wearing", "has on")  # for one item: shoes, glasses
DETERMINERS = ("A", "The", "This")

OMIT_IDENTITY, OMIT_BODY, OMIT_GARMENT, OMIT_SHOES, OMIT_BAG, OMIT_COLOUR = 0.2, 0.3, 0.1, 0.25, 0.15, 0.08


def describe(
    rng: np.random.Generator, identity: Factors, clothing: Factors, hidden: frozenset[str] = frozenset()
) -> Caption:
    """One caption of a person in an outfit, leaving out the `hidden` parts ("face", "shoes", "bag")."""
    return _Grammar(rng, identity, clothing, hidden).caption()


class _Grammar:
    """The random choices of one caption: which attributes, which words, which clause order."""

    def __init__(
        self, rng: np.random.Generator, identity: Factors, clothing: Factors, hidden: frozenset[str]
    ):
        self.rng = rng
        gender = identity["gender"]
        he, his = PRONOUNS[gender]
        self.he, self.his = Phrase(he, {"gender": gender}), Phrase(his, {"gender": gender})
        self.noun = Phrase(pick(rng, GENDER_NOUNS[gender]), {"gender": gender})
        self.adjectives = [
            Phrase(pick(rng, table[identity[name]]), {name: identity[name]})
            for name, table in BODY_WORDS.items()
            if table[identity[name]] and not self.chance(OMIT_BODY)
        ]
        skin = Phrase(f"{pick(rng, SKIN_WORDS[identity['skin']])} skin", {"skin": identity["skin"]})
        features = {"hair": self.hair(identity), "skin": skin}
        if "face" not in hidden and identity["eyewear"] != "none":
            words = pick(rng, EYEWEAR_WORDS[identity["eyewear"]])
            features["eyewear"] = Phrase(words, {"eyewear": identity["eyewear"]})
        if "face" not in hidden and identity["beard"] == "beard":
            features["beard"] = Phrase(pick(rng, BEARD_WORDS), {"beard": "beard"})
        self.features = {name: phrase for name, phrase in features.items() if not self.chance(OMIT_IDENTITY)}
        self.garments = [
            self.garment(part, clothing[part], clothing[f"{part}_colour"]) for part in ("upper", "lower")
        ]
        if self.chance(OMIT_GARMENT):
            self.garments.pop(int(rng.integers(2)))
        if self.chance(0.25):
            self.garments.reverse()
        self.shoes = None
        if "shoes" not in hidden and not self.chance(OMIT_SHOES):
            self.shoes = self.garment("shoes", "shoes", clothing["shoes_colour"])
        self.bag = None
        if clothing["bag"] != "none" and "bag" not in hidden and not self.chance(OMIT_BAG):
            self.bag = (clothing["bag"], self.garment("bag", clothing["bag"], clothing["bag_colour"]))

    def chance(self, probability: float) -> bool:
        return bool(self.rng.random() < probability)

    def colour(self, words: tuple[str, ...]) -> str:
        return "" if self.chance(OMIT_COLOUR) else pick(self.rng, words) + " "

    def hair(self, identity: Factors) -> Phrase:
        phrase = pick(self.rng, HAIR_PHRASES[identity["hair_style"]])
        colour = self.colour(HAIR_COLOUR_WORDS[identity["hair_colour"]])
        stated = {"hair_style": identity["hair_style"]}
        if colour:
            stated["hair_colour"] = identity["hair_colour"]
        if "{his}" in phrase:
            stated = {**stated, **self.his.stated}
        return Phrase(phrase.format(c=colour, his=self.his.text), stated)

    def garment(self, part: str, value: str, colour: str) -> Phrase:
        """`value` of `part` in `colour`; the shoes state only their colour (their kind is no factor)."""
        colour_words = self.colour(COLOUR_WORDS[colour])
        stated = {} if part == "shoes" else {part: value}
        if colour_words:
            stated[f"{part}_colour"] = colour
        phrase = Phrase(colour_words + pick(self.rng, GARMENT_WORDS[part][value]), stated)
        if phrase.text.split(" ")[-1] in PLURALS and self.chance(0.2):
            return "a pair of " + phrase
        return with_article(phrase, PLURALS)

    # -- assembly -----------------------------------------------------------------------------------------

    def caption(self) -> Caption:
        worn = list(self.garments)
        if self.shoes and self.chance(0.6):
            worn.append(self.shoes)
            self.shoes = None
        subject = self.subject()
        sentences = [self.opening(subject, worn)]
        sentences += self.identity_sentences() + self.clothing_sentences()
        sentences[1:] = [sentences[1 + i] for i in self.rng.permutation(len(sentences) - 1)]
        return assemble(sentences)

    def subject(self) -> Phrase:
        """The noun phrase the caption is about, e.g. "A tall slim woman with long brown hair and glasses"."""
        adjectives = [phrase for phrase in self.adjectives if not self.chance(0.3)]
        self.adjectives = [phrase for phrase in self.adjectives if phrase not in adjectives]
        attached = [name for name in self.features if self.chance(0.4)][:2]
        subject = pick(self.rng, DETERMINERS)
        for word in [*adjectives, self.noun]:
            subject = subject + " " + word
        if attached:
            subject = subject + " with " + and_join([self.features.pop(name) for name in attached])
        return subject

    def opening(self, subject: Phrase, worn: list[Phrase]) -> Sentence:
        verb = pick(self.rng, WEAR_VERBS)
        has = [name for name in self.features if name != "eyewear"]
        form = int(self.rng.integers(4))
        if form == 1 and has:
            feature = self.features.pop(pick(self.rng, has))
            return [
                ("identity", subject),
                (None, " "),
                ("identity", "has " + feature),
                (None, " and "),
                ("clothing", f"{verb} " + and_join(worn)),
                (None, "."),
            ]
        if form == 2 and has:
            feature = self.features.pop(pick(self.rng, has))
            lead = pick(self.rng, ("Wearing", "Dressed in", "In"))
            subject = Phrase(subject.text[0].lower() + subject.text[1:], subject.stated)
            return [
                ("clothing", f"{lead} " + and_join(worn)),
                (None, ", "),
                ("identity", subject + " has " + feature),
                (None, "."),
            ]
        if form == 3 and len(worn) > 1:
            return [
                ("identity", subject),
                (None, " "),
                ("clothing", "in " + worn[0]),
                (None, " "),
                ("clothing", f"{verb} " + and_join(worn[1:])),
                (None, "."),
            ]
        return [("identity", subject), (None, " "), ("clothing", f"{verb} " + and_join(worn)), (None, ".")]

    def identity_sentences(self) -> list[Sentence]:
        he, sentences = self.he.text.capitalize(), []
        he = Phrase(he, self.he.stated)
        if self.adjectives:
            sentences.append([("identity", he + " is " + and_join(self.adjectives)), (None, ".")])
        if "eyewear" in self.features:
            verb = pick(self.rng, ITEM_VERBS)
            sentences.append([("identity", he + f" {verb} " + self.features.pop("eyewear")), (None, ".")])
        if self.features and self.chance(0.5):
            sentences.append(
                [("identity", he + " has " + and_join(list(self.features.values()))), (None, ".")]
            )
        else:
            sentences += [
                [("identity", he + " has " + feature), (None, ".")] for feature in self.features.values()
            ]
        return sentences

    def clothing_sentences(self) -> list[Sentence]:
        he, sentences = Phrase(self.he.text.capitalize(), self.he.stated), []
        if self.shoes:
            sentences.append([("clothing", he + f" {pick(self.rng, ITEM_VERBS)} " + self.shoes), (None, ".")])
        if self.bag:
            kind, bag = self.bag
            before, after = BAG_PLACES[kind].split("{his}")
            place = " " + before + self.his + after
            clause = pick(
                self.rng,
                (he + " carries " + bag, he + " is carrying " + bag, he + " has " + bag + place),
            )
            sentences.append([("clothing", clause), (None, ".")])
        return sentences
