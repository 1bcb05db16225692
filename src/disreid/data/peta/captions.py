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
    (None, None): ("person", "pedestrian", "individual"),
}
NEUTRAL_NOUN = 0.1  # "A person in ..." though the gender is known: the pronouns that follow state it
PRONOUNS = {"male": ("he", "his"), "female": ("she", "her"), None: ("the person", "their")}
AGE_ADJECTIVES = {
    "16-30": ("young",),
    "46-60": ("middle-aged", "older"),
    "over 60": ("elderly", "old", "senior"),
}
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
    "brown": ("brown", "light brown", "dark brown"),
    "blond": ("blond", "blonde", "fair"),
    "grey": ("grey", "gray", "greying", "silver"),
    "white": ("white",),
    "red": ("red", "ginger"),
}
HAIR_PHRASES = {  # "{c}" is the colour and a space, or nothing
    "long": ("long {c}hair", "{c}hair down past {his} shoulders", "shoulder-length {c}hair",
             "long {c}hair in a ponytail"),
    "short": ("short {c}hair", "{c}hair cut short", "cropped {c}hair", "short-cut {c}hair"),
    None: ("{c}hair",),
}  # fmt: skip
BALD_PHRASES = ("a bald head", "a shaved head", "no hair", "a balding head")
HAIRED = 0.15  # "a long-haired woman", "a dark-haired man": the hair as an adjective
COLOUR_WORDS = {  # the plain word first: `_Describer.pick` favours it
    "black": ("black", "dark", "dark-coloured"),
    "grey": ("grey", "gray"),
    "brown": ("brown", "tan", "khaki", "beige"),
    "blue": ("blue", "navy"),
    "red": ("red", "maroon", "burgundy"),
    "green": ("green", "olive"),
    "purple": ("purple", "violet"),
}
SHADES = ("light", "dark", "bright")  # before a colour other than black and white, now and then

UPPER_NOUNS = {
    "t-shirt": ("t-shirt", "tee", "tee shirt"),
    "jacket": ("jacket", "coat", "zip-up jacket", "windbreaker"),
    "suit": ("suit jacket", "blazer", "suit"),
    "sweater": ("sweater", "jumper", "pullover", "sweatshirt"),
}
GENERIC_UPPER = ("shirt", "top")  # state no kind
BLOUSE = "blouse"  # a generic top, said of women
SLEEVE_WORDS = {
    "long": ("long-sleeved", "long-sleeve", "long sleeved"),
    "short": ("short-sleeved", "short-sleeve", "short sleeved"),
    "none": ("sleeveless",),
}
SLEEVE_SUFFIXES = {"long": "with long sleeves", "short": "with short sleeves", "none": "with no sleeves"}
SLEEVELESS_NOUNS = ("tank top", "vest top", "sleeveless top")  # the noun states the sleeves
PATTERN_WORDS = {  # before the noun
    "plaid": ("plaid", "checked", "checkered", "tartan"),
    "stripes": ("striped", "stripy"),
    "logo": ("graphic", "printed"),
}
PATTERN_SUFFIXES = {  # after it
    "plaid": ("with a checked pattern", "with a plaid pattern"),
    "stripes": ("with stripes", "with stripes on it"),
    "logo": ("with a logo", "with a logo on the front", "with a print on it", "with a design on the front",
             "with writing on it"),
}  # fmt: skip
LOWER_NOUNS = {
    "trousers": ("trousers", "pants", "slacks", "long pants"),
    "jeans": ("jeans", "denim jeans", "denim pants"),
    "shorts": ("shorts", "short pants"),
    "short skirt": ("short skirt", "miniskirt", "mini skirt"),
    "long skirt": ("long skirt", "maxi skirt", "ankle-length skirt"),
    "capri": ("capri pants", "capris", "cropped pants", "cropped trousers", "three-quarter pants"),
    "hot pants": ("hot pants", "very short shorts"),
    "suit trousers": ("suit trousers", "dress pants", "formal trousers"),
}
GENERIC_SKIRT = 0.25  # "a skirt", its length unsaid
FOOTWEAR_NOUNS = {
    "leather shoes": ("leather shoes", "dress shoes", "formal shoes", "loafers"),
    "sneakers": ("sneakers", "trainers", "running shoes", "tennis shoes", "athletic shoes"),
    "boots": ("boots", "ankle boots"),
    "sandals": ("sandals", "flip-flops"),
}
GENERIC_FOOTWEAR = ("shoes",)  # PETA's "Shoes" are shoes of no other kind: the word states no kind
STOCKING_WORDS = ("stockings", "tights", "pantyhose")
CARRIED = {  # thing -> (nouns, verbs, where it is carried); "{his}" is the possessive
    "backpack": (("backpack", "rucksack", "book bag", "school bag"), ("carries", "is carrying", "has"),
                 ("on {his} back",)),
    "messenger bag": (("shoulder bag", "messenger bag", "satchel", "purse", "handbag"),
                      ("carries", "is carrying", "has"), ("over {his} shoulder", "on {his} shoulder")),
    "plastic bag": (("plastic bag", "shopping bag", "carrier bag", "grocery bag"),
                    ("carries", "is carrying", "holds", "is holding"), ("in {his} hand", "in {his} left hand",
                                                                       "in {his} right hand")),
    "suitcase": (("suitcase", "briefcase"), ("carries", "is carrying", "has"), ("in {his} hand",)),
    "luggage case": (("luggage case", "piece of wheeled luggage", "trolley case", "rolling suitcase"),
                     ("pulls", "has", "is pulling"), ("behind {him}",)),
    "folder": (("folder", "file folder"), ("carries", "holds", "is holding"), ("in {his} hand",
                                                                               "under {his} arm")),
    "baby buggy": (("baby buggy", "pram", "stroller", "pushchair"), ("pushes", "is pushing"), ()),
    "shopping trolley": (("shopping trolley", "shopping cart"), ("pushes", "is pushing"), ()),
    "umbrella": (("umbrella",), ("carries", "holds", "is holding"), ("in {his} hand",)),
    "other": (("something", "an object", "some item"), ("carries", "is carrying", "holds", "is holding"),
              ("in {his} hand", "in {his} hands")),
}  # fmt: skip
BAGS = ("backpack", "messenger bag", "plastic bag")  # sometimes just "a bag", its kind unsaid
EMPTY_HANDED = ("is not carrying anything", "carries nothing", "has nothing in {his} hands", "has no bag")
ACCESSORY_NOUNS = {
    "hat": ("hat", "cap", "baseball cap", "beanie"),
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
    ("trousers", "pants", "slacks", "jeans", "shorts", "capris", "shoes", "sneakers", "trainers", "boots")
    + ("sandals", "flip-flops", "loafers", "sunglasses", "shades", "glasses", "headphones", "earphones")
    + ("stockings", "tights", "pantyhose")
)
WEAR_VERBS = ("is wearing", "wears", "is dressed in", "has on")
ITEM_VERBS = ("wears", "is wearing", "has on")  # for one item: shoes, a hat
DETERMINERS = ("A", "The", "This")
NO_DETERMINER = 0.08  # "Man wearing a black jacket.", as annotators write in a hurry
PAIR_OF = 0.3  # "a pair of black jeans"
ALSO = 0.15  # "She also carries a backpack."

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
    "shade": 0.12,
    "lower": 0.85,
    "footwear": 0.55,
    "footwear_kind": 0.6,
    "stockings": 0.5,
    "carrying": 0.7,
    "bag_kind": 0.85,
    "place": 0.3,
    "nothing": 0.2,
    "accessory": 0.65,
    "style": 0.2,
}
LOWER_CASE, NO_FULL_STOP = 0.15, 0.1
FAVOURED = 0.6  # chance that `_Describer.pick` takes a table's first, plainest word outright


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
        self.hair_adjective: Phrase | None = None
        self.hair = self.hair_phrase(identity)

    def chance(self, probability: float) -> bool:
        return bool(self.rng.random() < probability)

    def pick(self, words: tuple[str, ...]) -> str:
        """One of `words`, the first (the plainest) more often than the others, as people write."""
        return words[0] if self.chance(FAVOURED) else pick(self.rng, words)

    def possessive(self, words: str) -> Phrase:
        """`words` with "{his}" and "{him}" filled in; they then state the gender too."""
        him = {"he": "him", "she": "her"}.get(self.he.text, "them")
        stated = self.gender if "{his}" in words or "{him}" in words else {}
        return Phrase(words.format(his=self.his.text, him=him), stated)

    # -- identity --------------------------------------------------------------------------------------

    def person(self, gender: str | None, age: str | None) -> tuple[Phrase, Phrase | None, Phrase | None]:
        """The noun, and the age as an adjective or a phrase of its own where the noun does not state it."""
        stated_age = {"age": age} if age else {}
        if age and (gender, age) in NOUNS and self.chance(0.5):
            return Phrase(self.pick(NOUNS[gender, age]), {**self.gender, **stated_age}), None, None
        if self.chance(NEUTRAL_NOUN):
            gender = None
        noun = Phrase(self.pick(NOUNS[gender, None]), self.gender if gender else {})
        if age is None:
            return noun, None, None
        if age in AGE_ADJECTIVES and self.chance(0.5):
            return noun, Phrase(self.pick(AGE_ADJECTIVES[age]), stated_age), None
        return noun, None, self.possessive(self.pick(AGE_PHRASES[age])) + Phrase("", stated_age)

    def hair_phrase(self, identity: Factors) -> Phrase | None:
        length = single(identity.get("hair"))
        if length == "bald":  # its colour, where labelled, is not said
            return Phrase(self.pick(BALD_PHRASES), {"hair": "bald"}) if self.chance(STATE["hair"]) else None
        length = length if self.chance(STATE["hair"]) else None
        colour = single(identity.get("hair_colour")) if self.chance(STATE["hair_colour"]) else None
        if colour and colour not in HAIR_COLOUR_WORDS and self.chance(0.5):
            colour = None  # dyed hair of a rare colour: sometimes said, sometimes not
        if not (length or colour):
            return None
        stated = {"hair": length} if length else {}
        words = ""
        if colour:
            words = self.pick(HAIR_COLOUR_WORDS.get(colour, (f"dyed {colour}",))) + " "
            stated["hair_colour"] = colour
        if length and colour and self.chance(0.15):
            return Phrase(f"hair that is {length} and {words.strip()}", stated)
        if not (length and colour) and self.chance(HAIRED):  # before the noun: see `subject`
            self.hair_adjective = Phrase(f"{length or words.strip().split()[-1]}-haired", stated)
            return None
        template = self.pick(HAIR_PHRASES[length])
        return self.possessive(template.replace("{c}", words)) + Phrase("", stated)

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
        if (
            len(words) == 1
            and words[0] == colours[0] not in ("black", "white")
            and self.chance(STATE["shade"])
        ):
            words[0] = f"{self.pick(SHADES)} {words[0]}"
        if len(words) == 2 and self.chance(0.3):
            text = "-and-".join(words)
        else:
            text = and_join([Phrase(word, {}) for word in words]).text
        return Phrase(text, {f"{part}_colour": value})

    def garment(self, part: str, words: list[Phrase], noun: Phrase, suffix: Phrase | None = None) -> Phrase:
        """ "a [colours] [words] noun [suffix]", the colours of `part` where they are said."""
        phrase = Phrase("", {})
        for piece in (self.colours(part), *words, noun):
            if piece is not None:
                phrase = phrase + (" " if phrase.text else "") + piece
        phrase = with_article(phrase, PLURALS)
        return phrase if suffix is None else phrase + " " + suffix

    def upper(self, force: bool = False) -> Phrase | None:
        clothing = self.clothing
        if not (force or self.chance(STATE["upper"])):
            return None
        sleeves = single(clothing.get("sleeves"))
        kinds = [k for k in _values(clothing.get("upper")) if k in UPPER_NOUNS]
        if kinds and self.chance(STATE["upper_kind"]):
            kind = self.pick(tuple(kinds))
            noun = Phrase(self.pick(UPPER_NOUNS[kind]), {"upper": kind})
        elif sleeves == "none" and self.chance(0.5):
            noun, sleeves = Phrase(self.pick(SLEEVELESS_NOUNS), {"sleeves": "none"}), None
        else:
            female = self.gender.get("gender") == "female" and self.chance(0.2)
            noun = Phrase(BLOUSE if female else self.pick(GENERIC_UPPER), {})
        words: list[Phrase] = []
        if clothing.get("neckline") == "v-neck" and self.chance(STATE["pattern"]):
            words.append(Phrase("v-neck", {"neckline": "v-neck"}))
        suffix = self.pattern("upper", words)
        if sleeves and self.chance(STATE["sleeves"]):
            stated = {"sleeves": sleeves}
            if suffix is None and self.chance(0.3):
                suffix = Phrase(SLEEVE_SUFFIXES[sleeves], stated)
            else:
                words.insert(0, Phrase(self.pick(SLEEVE_WORDS[sleeves]), stated))
        return self.garment("upper", words, noun, suffix)

    def lower(self, force: bool = False) -> Phrase | None:
        kinds = _values(self.clothing.get("lower"))
        if not kinds or not (force or self.chance(STATE["lower"])):
            return None
        kind = self.pick(tuple(kinds))
        noun = Phrase(self.pick(LOWER_NOUNS[kind]), {"lower": kind})
        if kind.endswith("skirt") and self.chance(GENERIC_SKIRT):
            noun = Phrase("skirt", {})
        words: list[Phrase] = []
        suffix = self.pattern("lower", words)
        return self.pair_of(self.garment("lower", words, noun, suffix))

    def pattern(self, part: str, words: list[Phrase]) -> Phrase | None:
        """The part's pattern where it is said: an adjective added to `words` ("a striped shirt"), or the
        phrase returned to follow the noun ("a top with a logo")."""
        pattern = single(self.clothing.get(f"{part}_pattern"))
        if pattern not in PATTERN_WORDS or not self.chance(STATE["pattern"]):
            return None
        stated = {f"{part}_pattern": pattern}
        if self.chance(0.5):
            return Phrase(self.pick(PATTERN_SUFFIXES[pattern]), stated)
        words.append(Phrase(self.pick(PATTERN_WORDS[pattern]), stated))
        return None

    def pair_of(self, phrase: Phrase) -> Phrase:
        """ "a pair of black jeans", now and then, for what comes in pairs."""
        if phrase.text.split(" with ")[0].split()[-1] in PLURALS and self.chance(PAIR_OF):
            return "a pair of " + phrase
        return phrase

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
        return self.pair_of(phrase) if phrase.stated else None  # "shoes" alone says nothing

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
            return self.possessive(self.pick(EMPTY_HANDED)) + Phrase("", {"carrying": "nothing"})
        said = [thing for thing in things if thing in CARRIED and self.chance(STATE["carrying"])]
        actions, stated = [], []
        for thing in said:
            nouns, verbs, places = CARRIED[thing]
            if thing in BAGS and not self.chance(STATE["bag_kind"]):
                noun = Phrase("bag", {})  # its kind unsaid
            else:
                noun = Phrase(self.pick(nouns), {"carrying": thing})
                stated.append(thing)
            if noun.text.split()[0] not in ("something", "an", "some"):
                noun = with_article(noun, PLURALS)
            if places and self.chance(STATE["place"]):
                noun = noun + " " + self.possessive(self.pick(places))
            actions.append(self.pick(verbs) + " " + noun)
        if not actions:
            return None
        # Several things: each with its verb; their stated values are one list.
        joined = and_join(actions)
        carrying = {"carrying": _one_or_list(stated)} if stated else {}
        return Phrase(
            joined.text, {**{k: v for k, v in joined.stated.items() if k != "carrying"}, **carrying}
        )

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
        subject = Phrase("" if self.chance(NO_DETERMINER) else self.pick(DETERMINERS), {})
        for adjective in (self.age_adjective, self.hair_adjective):
            if adjective is not None:
                subject = subject + (" " if subject.text else "") + adjective
        self.age_adjective = None
        subject = subject + (" " if subject.text else "") + self.noun
        if self.hair is not None and self.chance(0.5):
            subject = subject + " with " + self.hair
            self.hair = None
        return _an_before_vowel(Phrase(subject.text[0].upper() + subject.text[1:], subject.stated))

    def opening(self, worn: list[Phrase]) -> Sentence:
        subject = self.subject()
        verb = self.pick(WEAR_VERBS)
        form = int(self.rng.integers(6))
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
        if form == 4:  # no verb of its own: "A man wearing a grey jacket and black pants."
            lead = self.pick(("wearing", "who is wearing", "dressed in"))
            return [
                ("identity", subject),
                (None, " "),
                ("clothing", f"{lead} " + and_join(worn)),
                (None, "."),
            ]
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
        sentences: list[Sentence] = []
        for extra in extras:
            sentences.append(
                [("clothing", self.he_also() + f" {self.pick(ITEM_VERBS)} " + extra), (None, ".")]
            )
        carried = self.carried()
        if carried is not None:
            sentences.append([("clothing", self.he_also() + " " + carried), (None, ".")])
        accessories = self.accessories()
        if accessories is not None:
            clause = self.he_also() + f" {self.pick(ITEM_VERBS)} " + accessories
            sentences.append([("clothing", clause), (None, ".")])
        style = single(self.clothing.get("upper_style"))
        if style and style == self.clothing.get("lower_style") and self.chance(STATE["style"]):
            stated = {"upper_style": style, "lower_style": style}
            clause = self.he_also() + " " + Phrase(self.pick(STYLE_PHRASES[style]), stated)
            sentences.append([("clothing", clause), (None, ".")])
        return sentences

    def he_also(self) -> Phrase:
        """ "He", or now and then "He also" (the verb that follows agrees either way)."""
        he = self.he.text.capitalize() + (" also" if self.chance(ALSO) else "")
        return Phrase(he, self.he.stated)


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
