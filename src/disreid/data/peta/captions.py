"""Captions of PETA's persons from their human labels, in the words people write.

As in CUHK-PEDES, a caption opens with the person ("A young woman with long black hair") and what they
wear, then adds sentences in any order ("She carries a backpack."). Each value has several wordings
("trousers", "pants", "slacks"), and, as annotators do, a caption leaves attributes out: every one is
stated with a probability of its own, and some captions are written in lower case or without the last
full stop. A caption states only what the labels say, and where a word is vaguer than the label ("a
top", "shoes", "a bag") it states nothing of the kind. Each phrase records the factor values its
words state (`disreid.data.grammar`), so each caption's identity and clothing parts know what they say.
"""

from __future__ import annotations

import numpy as np

from disreid.data.grammar import Caption, Phrase, Sentence, Value, and_join, assemble, with_article
from disreid.data.peta.attributes import Factors, single
from disreid.data.synth.factors import pick

NOUNS = {  # (gender, age or None) -> nouns; an age here is stated by the noun
    ("male", None): ("man", "guy", "gentleman", "male"),
    ("female", None): ("woman", "lady", "female"),
    ("male", "under 16"): ("boy", "young boy", "teenage boy", "kid"),
    ("female", "under 16"): ("girl", "young girl", "teenage girl", "kid"),
    ("female", "16-30"): ("girl", "young woman", "young lady"),
    ("male", "16-30"): ("young man", "young guy", "young male"),
    ("male", "over 60"): ("old man", "elderly man", "older gentleman"),
    ("female", "over 60"): ("old woman", "elderly woman", "older lady"),
    (None, None): ("person", "pedestrian"),
}
PRONOUNS = {"male": ("he", "his"), "female": ("she", "her"), None: ("the person", "their")}
AGE_ADJECTIVES = {"16-30": ("young",), "46-60": ("middle-aged",), "over 60": ("elderly", "old", "senior")}
AGE_PHRASES = {  # "{his}" is the possessive
    "under 16": ("a teenager", "a child", "under sixteen"),
    "16-30": ("in {his} twenties", "a young adult", "under thirty"),
    "31-45": ("in {his} thirties", "in {his} thirties or early forties", "between thirty and forty-five"),
    "46-60": ("in {his} fifties", "middle-aged", "in {his} late forties or fifties"),
    "over 60": ("over sixty", "elderly", "a senior citizen", "in {his} sixties or older"),
}
AGE_VERBS = ("looks to be", "appears to be", "seems to be", "is")  # before a phrase
AGE_ADJECTIVE_VERBS = ("looks", "is", "appears")
HAIR_COLOUR_WORDS = {
    "black": ("black", "dark"),
    "brown": ("brown",),
    "blond": ("blond", "blonde", "fair"),
    "grey": ("grey", "gray", "greying", "silver"),
    "white": ("white",),
    "red": ("red", "ginger"),
}
HAIR_LENGTH_WORDS = {"long": ("long",), "short": ("short", "cropped")}
BALD_PHRASES = ("a bald head", "a shaved head", "no hair")
COLOUR_WORDS = {"grey": ("grey", "gray"), "purple": ("purple", "violet")}

UPPER_NOUNS = {
    "t-shirt": ("t-shirt", "tee", "tee shirt"),
    "jacket": ("jacket", "coat", "zip-up jacket"),
    "suit": ("suit jacket", "blazer", "suit"),
    "sweater": ("sweater", "jumper", "pullover"),
}
GENERIC_UPPER = ("top", "shirt")  # state no kind
SLEEVE_WORDS = {
    "long": ("long-sleeved", "long-sleeve", "long sleeved"),
    "short": ("short-sleeved", "short-sleeve", "short sleeved"),
    "none": ("sleeveless",),
}
SLEEVELESS_NOUNS = ("tank top", "vest top", "sleeveless top")  # the noun states the sleeves
PATTERN_WORDS = {
    "plaid": ("plaid", "checked", "checkered"),
    "stripes": ("striped", "stripy"),
}
LOGO_PHRASES = ("with a logo", "with a logo on the front", "with a print on it", "with a graphic")
LOWER_NOUNS = {
    "trousers": ("trousers", "pants", "slacks"),
    "jeans": ("jeans", "denim jeans"),
    "shorts": ("shorts",),
    "short skirt": ("short skirt", "miniskirt", "mini skirt"),
    "long skirt": ("long skirt", "maxi skirt", "ankle-length skirt"),
    "capri": ("capri pants", "cropped pants", "cropped trousers", "three-quarter pants"),
    "hot pants": ("hot pants", "very short shorts"),
    "suit trousers": ("suit trousers", "dress pants", "formal trousers"),
}
FOOTWEAR_NOUNS = {
    "leather shoes": ("leather shoes", "dress shoes", "formal shoes"),
    "sneakers": ("sneakers", "trainers", "running shoes", "tennis shoes"),
    "boots": ("boots",),
    "sandals": ("sandals",),
}
GENERIC_FOOTWEAR = ("shoes",)  # PETA's "Shoes" are shoes of no other kind: the word states no kind
STOCKING_WORDS = ("stockings", "tights", "pantyhose")
CARRIED = {  # thing -> (nouns, verbs)
    "backpack": (("backpack", "rucksack", "book bag"), ("carries", "is carrying", "has")),
    "messenger bag": (("shoulder bag", "messenger bag", "satchel"), ("carries", "is carrying", "has")),
    "plastic bag": (("plastic bag", "shopping bag", "carrier bag"), ("carries", "is carrying", "holds")),
    "suitcase": (("suitcase",), ("carries", "is carrying", "has")),
    "luggage case": (("luggage case", "piece of wheeled luggage", "trolley case"), ("pulls", "has")),
    "folder": (("folder", "file folder"), ("carries", "holds", "is holding")),
    "baby buggy": (("baby buggy", "pram", "stroller", "pushchair"), ("pushes", "is pushing")),
    "shopping trolley": (("shopping trolley", "shopping cart"), ("pushes", "is pushing")),
    "umbrella": (("umbrella",), ("carries", "holds", "is holding")),
    "other": (("something in {his} hand", "an object", "some item"), ("carries", "is carrying", "holds")),
}
EMPTY_HANDED = ("is not carrying anything", "carries nothing", "has nothing in {his} hands", "has no bag")
ACCESSORY_NOUNS = {
    "hat": ("hat", "cap"),
    "sunglasses": ("sunglasses", "shades", "dark glasses"),
    "hair band": ("hairband", "headband", "hair band"),
    "scarf": ("scarf", "muffler"),
    "headphones": ("headphones", "earphones"),
    "kerchief": ("headscarf", "kerchief", "bandana"),
    "face mask": ("face mask", "mask"),
    "shawl": ("shawl",),
}
STYLE_PHRASES = {
    "casual": ("is dressed casually", "is in casual clothes", "wears casual clothes"),
    "formal": ("is dressed formally", "is in formal clothes", "wears business attire", "is smartly dressed"),
}
PLURALS = frozenset(
    ("trousers", "pants", "slacks", "jeans", "shorts", "shoes", "sneakers", "trainers", "boots", "sandals")
    + ("sunglasses", "shades", "glasses", "headphones", "earphones", "stockings", "tights", "pantyhose")
)
WEAR_VERBS = ("is wearing", "wears", "is dressed in", "has on")
ITEM_VERBS = ("wears", "is wearing", "has on")  # for one item: shoes, a hat
DETERMINERS = ("A", "The", "This")

# How often an attribute is stated when the labels give it: annotators name the clothes more than age.
STATE = {
    "age": 0.45,
    "hair": 0.75,
    "hair_colour": 0.6,
    "upper": 0.9,
    "upper_kind": 0.75,
    "sleeves": 0.4,
    "pattern": 0.7,
    "colour": 0.85,
    "lower": 0.85,
    "footwear": 0.55,
    "footwear_kind": 0.6,
    "stockings": 0.5,
    "carrying": 0.7,
    "nothing": 0.2,
    "accessory": 0.65,
    "style": 0.2,
}
LOWER_CASE, NO_FULL_STOP = 0.15, 0.1


def describe(rng: np.random.Generator, factors: dict[str, Factors]) -> Caption:
    """One caption of a person with PETA `factors` (`attributes.factors_of`)."""
    caption = _Describer(rng, factors["identity"], factors["clothing"]).caption()
    if rng.random() < LOWER_CASE:
        caption = _restyle(caption, str.lower)
    if rng.random() < NO_FULL_STOP:
        caption = _restyle(caption, lambda text: text.removesuffix("."))
    return caption


def _restyle(caption: Caption, change) -> Caption:  # noqa: ANN001
    return Caption(
        change(caption.text),
        change(caption.identity),
        change(caption.clothing),
        caption.identity_stated,
        caption.clothing_stated,
    )


class _Describer:
    """The random choices of one caption: which attributes, which words, which clause order."""

    def __init__(self, rng: np.random.Generator, identity: Factors, clothing: Factors) -> None:
        self.rng = rng
        self.clothing = clothing
        gender = single(identity.get("gender"))
        self.gender = {"gender": gender} if gender else {}
        he, his = PRONOUNS[gender]
        self.he, self.his = Phrase(he, self.gender), Phrase(his, self.gender)
        age = single(identity.get("age")) if self.chance(STATE["age"]) else None
        self.noun, self.age_adjective, self.age_phrase = self.person(gender, age)
        self.hair = self.hair_phrase(identity)

    def chance(self, probability: float) -> bool:
        return bool(self.rng.random() < probability)

    def pick(self, words: tuple[str, ...]) -> str:
        return pick(self.rng, words)

    # -- identity --------------------------------------------------------------------------------------

    def person(self, gender: str | None, age: str | None) -> tuple[Phrase, Phrase | None, Phrase | None]:
        """The noun, and the age as an adjective or a phrase of its own where the noun does not state it."""
        stated_age = {"age": age} if age else {}
        if age and (gender, age) in NOUNS and self.chance(0.5):
            return Phrase(self.pick(NOUNS[gender, age]), {**self.gender, **stated_age}), None, None
        noun = Phrase(self.pick(NOUNS[gender, None]), self.gender)
        if age is None:
            return noun, None, None
        if age in AGE_ADJECTIVES and self.chance(0.5):
            return noun, Phrase(self.pick(AGE_ADJECTIVES[age]), stated_age), None
        words = self.pick(AGE_PHRASES[age]).format(his=self.his.text)
        return noun, None, Phrase(words, {**stated_age, **(self.gender if "{his}" in words else {})})

    def hair_phrase(self, identity: Factors) -> Phrase | None:
        length = single(identity.get("hair"))
        if length == "bald":  # its colour, where labelled, is not said
            return Phrase(self.pick(BALD_PHRASES), {"hair": "bald"}) if self.chance(STATE["hair"]) else None
        length = length if self.chance(STATE["hair"]) else None
        colour = single(identity.get("hair_colour")) if self.chance(STATE["hair_colour"]) else None
        if colour and colour not in HAIR_COLOUR_WORDS and self.chance(0.5):
            colour = None  # dyed hair of a rare colour: sometimes said, sometimes not
        words, stated = [], {}
        if length:
            words.append(self.pick(HAIR_LENGTH_WORDS[length]))
            stated["hair"] = length
        if colour:
            words.append(self.pick(HAIR_COLOUR_WORDS.get(colour, (f"dyed {colour}",))))
            stated["hair_colour"] = colour
        if not words:
            return None
        if len(words) == 2 and self.chance(0.2):
            return Phrase(f"hair that is {words[0]} and {words[1]}", stated)
        return Phrase(" ".join(words) + " hair", stated)

    # -- clothing --------------------------------------------------------------------------------------

    def colours(self, part: str) -> Phrase | None:
        """The colour words of a garment, stating `part`_colour, or None (not labelled, more than three
        colours, or left out)."""
        value = self.clothing.get(f"{part}_colour")
        if value is None or not self.chance(STATE["colour"]):
            return None
        colours = [value] if isinstance(value, str) else list(value)
        if len(colours) > 3:
            return None
        colours = [colours[i] for i in self.rng.permutation(len(colours))]
        words = [self.pick(COLOUR_WORDS.get(colour, (colour,))) for colour in colours]
        if len(words) == 2 and self.chance(0.3):
            text = "-and-".join(words)
        else:
            text = and_join([Phrase(word, {}) for word in words]).text
        return Phrase(text, {f"{part}_colour": value})

    def garment(self, part: str, words: list[Phrase], noun: Phrase) -> Phrase:
        """ "a [colours] [words] noun", the colours of `part` where they are said."""
        phrase = Phrase("", {})
        for piece in (self.colours(part), *words, noun):
            if piece is not None:
                phrase = phrase + (" " if phrase.text else "") + piece
        return with_article(phrase, PLURALS)

    def upper(self, force: bool = False) -> Phrase | None:
        clothing = self.clothing
        if not (force or self.chance(STATE["upper"])):
            return None
        sleeves = single(clothing.get("sleeves"))
        kinds = [k for k in _values(clothing.get("upper")) if k in UPPER_NOUNS]
        words: list[Phrase] = []
        if kinds and self.chance(STATE["upper_kind"]):
            kind = self.pick(tuple(kinds))
            noun = Phrase(self.pick(UPPER_NOUNS[kind]), {"upper": kind})
        elif sleeves == "none" and self.chance(0.5):
            noun, sleeves = Phrase(self.pick(SLEEVELESS_NOUNS), {"sleeves": "none"}), None
        else:
            noun = Phrase(self.pick(GENERIC_UPPER), {})
        if clothing.get("neckline") == "v-neck" and self.chance(STATE["pattern"]):
            words.append(Phrase("v-neck", {"neckline": "v-neck"}))
        if sleeves and self.chance(STATE["sleeves"]):
            words.insert(0, Phrase(self.pick(SLEEVE_WORDS[sleeves]), {"sleeves": sleeves}))
        return self.patterned("upper", words, noun)

    def lower(self, force: bool = False) -> Phrase | None:
        kinds = _values(self.clothing.get("lower"))
        if not kinds or not (force or self.chance(STATE["lower"])):
            return None
        kind = self.pick(tuple(kinds))
        noun = Phrase(self.pick(LOWER_NOUNS[kind]), {"lower": kind})
        phrase = self.patterned("lower", [], noun)
        if noun.text.split()[-1] in PLURALS and self.chance(0.15):
            phrase = "a pair of " + phrase
        return phrase

    def patterned(self, part: str, words: list[Phrase], noun: Phrase) -> Phrase:
        """`garment` with the part's pattern, where it is said: "a striped shirt", "a top with a logo"."""
        pattern = single(self.clothing.get(f"{part}_pattern"))
        if pattern not in (*PATTERN_WORDS, "logo") or not self.chance(STATE["pattern"]):
            return self.garment(part, words, noun)
        stated = {f"{part}_pattern": pattern}
        if pattern == "logo":
            return self.garment(part, words, noun) + Phrase(" " + self.pick(LOGO_PHRASES), stated)
        return self.garment(part, [*words, Phrase(self.pick(PATTERN_WORDS[pattern]), stated)], noun)

    def footwear(self) -> Phrase | None:
        kinds = [kind for kind in _values(self.clothing.get("footwear")) if kind in FOOTWEAR_NOUNS]
        if not self.chance(STATE["footwear"]):
            return None
        if kinds and self.chance(STATE["footwear_kind"]):
            kind = self.pick(tuple(kinds))
            noun = Phrase(self.pick(FOOTWEAR_NOUNS[kind]), {"footwear": kind})
        else:
            noun = Phrase(self.pick(GENERIC_FOOTWEAR), {})
        phrase = self.garment("footwear", [], noun)
        return phrase if phrase.stated else None  # "shoes" alone says nothing

    def stockings(self) -> Phrase | None:
        if self.clothing.get("stockings") != "yes" or not self.chance(STATE["stockings"]):
            return None
        return Phrase(self.pick(STOCKING_WORDS), {"stockings": "yes"})

    def carried(self) -> Phrase | None:
        """What the person carries, as a verb phrase: "carries a backpack and holds an umbrella"."""
        things = _values(self.clothing.get("carrying"))
        if things == ["nothing"]:
            if not self.chance(STATE["nothing"]):
                return None
            words = self.pick(EMPTY_HANDED).format(his=self.his.text)
            return Phrase(words, {"carrying": "nothing", **(self.gender if "{his}" in words else {})})
        stated = [thing for thing in things if thing in CARRIED and self.chance(STATE["carrying"])]
        if not stated:
            return None
        actions = []
        for thing in stated:
            nouns, verbs = CARRIED[thing]
            noun = self.pick(nouns)
            phrase = Phrase(noun.format(his=self.his.text), {"carrying": thing})
            if "{his}" in noun:
                phrase = phrase + Phrase("", self.gender)
            if noun.split()[0] not in ("something", "an", "some"):
                phrase = with_article(phrase, PLURALS)
            actions.append(self.pick(verbs) + " " + phrase)
        # Several things: each with its verb; their stated values are one list.
        joined = and_join(actions)
        return Phrase(joined.text, {**joined.stated, "carrying": _one_or_list(stated)})

    def accessories(self) -> Phrase | None:
        worn = [a for a in _values(self.clothing.get("accessory")) if a in ACCESSORY_NOUNS]
        stated = [a for a in worn if self.chance(STATE["accessory"])]
        if not stated:
            return None
        joined = and_join([with_article(Phrase(self.pick(ACCESSORY_NOUNS[a]), {}), PLURALS) for a in stated])
        return Phrase(joined.text, {"accessory": _one_or_list(stated)})

    # -- assembly --------------------------------------------------------------------------------------

    def caption(self) -> Caption:
        worn = [phrase for phrase in (self.upper(), self.lower()) if phrase is not None]
        if worn and self.chance(0.2):
            worn.reverse()
        extras = [phrase for phrase in (self.footwear(), self.stockings()) if phrase is not None]
        if extras and self.chance(0.5):
            worn.append(extras.pop(0))
        if not worn:  # every caption says something of the clothes, as annotators' do
            worn = [self.lower(force=True) or self.upper(force=True)]
        sentences = [self.opening(worn)]
        rest = self.identity_sentences() + self.clothing_sentences(extras)
        sentences += [rest[i] for i in self.rng.permutation(len(rest))]
        return assemble(sentences)

    def subject(self) -> Phrase:
        """The noun phrase the caption is about: "A young woman with long black hair"."""
        words = [self.pick(DETERMINERS)]
        if self.age_adjective is not None:
            words.append(self.age_adjective)
            self.age_adjective = None
        subject = Phrase(words[0], {})
        for word in [*words[1:], self.noun]:
            subject = subject + " " + word
        with_what = []
        if self.hair is not None and self.chance(0.5):
            with_what.append(self.hair)
            self.hair = None
        if with_what:
            subject = subject + " with " + and_join(with_what)
        return _an_before_vowel(subject)

    def opening(self, worn: list[Phrase]) -> Sentence:
        subject = self.subject()
        verb = self.pick(WEAR_VERBS)
        form = int(self.rng.integers(4))
        if form == 1 and self.hair is not None:
            hair, self.hair = self.hair, None
            return [
                ("identity", subject + " has " + hair),
                (None, " and "),
                ("clothing", f"{verb} " + and_join(worn)),
                (None, "."),
            ]
        if form == 2:
            lead = self.pick(("Wearing", "Dressed in", "In"))
            return [
                ("clothing", f"{lead} " + and_join(worn)),
                (None, ", "),
                ("identity", _lower_first(subject) + " " + self.pick(("walks", "is walking", "stands"))),
                (None, "."),
            ]
        if form == 3:
            return [("identity", subject), (None, " "), ("clothing", "in " + and_join(worn)), (None, ".")]
        return [("identity", subject), (None, " "), ("clothing", f"{verb} " + and_join(worn)), (None, ".")]

    def identity_sentences(self) -> list[Sentence]:
        he = Phrase(self.he.text.capitalize(), self.he.stated)
        sentences = []
        age = self.age_adjective or self.age_phrase
        if age is not None:
            verb = self.pick(AGE_ADJECTIVE_VERBS if age is self.age_adjective else AGE_VERBS)
            sentences.append([("identity", he + f" {verb} " + age), (None, ".")])
        if self.hair is not None:
            sentences.append([("identity", he + " has " + self.hair), (None, ".")])
        return sentences

    def clothing_sentences(self, extras: list[Phrase]) -> list[Sentence]:
        he = Phrase(self.he.text.capitalize(), self.he.stated)
        sentences: list[Sentence] = []
        for extra in extras:
            sentences.append([("clothing", he + f" {self.pick(ITEM_VERBS)} " + extra), (None, ".")])
        carried = self.carried()
        if carried is not None:
            sentences.append([("clothing", he + " " + carried), (None, ".")])
        accessories = self.accessories()
        if accessories is not None:
            sentences.append([("clothing", he + f" {self.pick(ITEM_VERBS)} " + accessories), (None, ".")])
        style = single(self.clothing.get("upper_style"))
        if style and style == self.clothing.get("lower_style") and self.chance(STATE["style"]):
            stated = {"upper_style": style, "lower_style": style}
            clause = he + " " + Phrase(self.pick(STYLE_PHRASES[style]), stated)
            sentences.append([("clothing", clause), (None, ".")])
        return sentences


def _an_before_vowel(subject: Phrase) -> Phrase:
    """ "A old man" becomes "An old man", "A elderly" "An elderly"."""
    first, _, rest = subject.text.partition(" ")
    if first == "A" and rest[:1] in tuple("aeiou"):
        return Phrase("An " + rest, subject.stated)
    return subject


def _lower_first(phrase: Phrase) -> Phrase:
    return Phrase(phrase.text[0].lower() + phrase.text[1:], phrase.stated)


def _one_or_list(values: list[str]) -> Value:
    return values[0] if len(values) == 1 else sorted(values)


def _values(value: Value | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)
