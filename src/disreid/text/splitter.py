"""Split a pedestrian caption into identity text and clothing text, clause by clause (SPEC §6).

Labelling a whole sentence fails because nearly every sentence says "wearing": "A man with short hair
is wearing a red coat" is both. So a caption is cut at punctuation into chunks; a chunk whose cues
disagree is cut again before conjunctions, prepositions, verbs and new subjects ("A man" | "with short
hair" | "is wearing a red coat"), and each piece is labelled from a curated lexicon of cue phrases.
The conventions are those of the labelled real captions: a noun-phrase subject ("The woman") is
identity, a subject pronoun stays with its verb, glasses are identity, held objects are clothing,
viewpoint and surroundings are neither. A sentence with no cue at all is most often what the person does
("He is climbing the stairs"), so it is identity: no description of the person is dropped from both parts.
Words the lexicon does not know fall to defaults rather than to their neighbours' label: an unknown verb of
the person's ("is playing", "she clasps") is an action, so identity, and keeps an object that names nothing
worn or carried ("with a yellow object"); a lexicon verb or person noun missing or doubling a letter
("WALING", "wearring") is read as that word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate, pairwise, takewhile
from typing import Literal, NamedTuple

Label = Literal["identity", "clothing", "other"]


@dataclass(frozen=True)
class Clause:
    """A labelled piece of a caption: `text == caption[start:end]`."""

    text: str
    label: Label
    start: int
    end: int


def _any(*patterns: str) -> str:
    return "(?:" + "|".join(patterns) + ")"


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


# RSTPReid's punctuation-stripped captions and typos glue words together ("jacketa pair", "shoesshe is",
# "The womanis"); a lexicon noun may therefore end before one of these words as well as at a word boundary.
_GLUED = ("the", "an", "a", "she", "he", "his", "her", "and", "is", "has", "with", "wearing")
_END = rf"(?=\b|{_any(*_GLUED)}\b)"

_COLOURS = _any(
    "black", "white", "red", "blue", "green", "yellow", "orange", "purple", "pink", "brown", "gr[ae]y",
    "beige", "tan", "khaki", "navy", "maroon", "burgundy", "violet", "teal", "turquoise", "cream", "ivory",
    "gold(?:en)?", "silver", "olive", "camel", "coral", "lavender", "lilac", "magenta", "cyan", "charcoal",
    "(?:multi-?)?colou?r(?:ed|ful|s)?",
    "(?:redd|pink|gr[ae]y|brown|green|yellow|blue?|whit|black|purpl|orang)ish",  # "reddish brown hair"
)  # fmt: skip
_SHADES = _any(_COLOURS, "dark", "light", "bright", "deep", "pale", "mostly", "partly")
# Nouns of hair, face and glasses, and the words that may describe them within one phrase: the colour in
# "long, dark brown hair" or "thick rimmed black glasses" is not a garment colour.
_HAIR_NOUNS = _any(r"hair\w*", r"pony[\s-]?tails?", "pigtails?", "braids?", "buns?", "bangs")
_FACE_NOUNS = _any(
    _HAIR_NOUNS, "beards?", "skin", "complexion", "eyes", "eyebrows", "cheeks", "(?:eye|sun)?glasses",
    "eyeglass", "mustaches?", "moustaches?", "goatees?", "sideburns", "whiskers", "lipstick", r"lip\s?gloss",
    "make-?up", "mascara", r"eye\s?(?:liner|shadow)",
)  # fmt: skip
_FACE_MODIFIERS = _any(
    _SHADES, "blond(?:e)?", "and", "or", "long", "short", "medium", "very", "straight", "curly", "wavy",
    "thick", "thin", "cropped", "messy", "spiky", "dyed", "shoulder", "length", "rimmed", "framed?", "clear",
    "tinted", "round", "wire", "metal", "styled", "slicked", "spiked", "combed", "gelled", "permed",
    "tousled", "puffy", "fluffy", "frizzy", "poofy",  # also said of garments: the noun after them decides
    r"(?:collar|chin|ear|neck|waist|back)[\s-]length",  # a length named by where the hair ends
)  # fmt: skip

# The nouns a noun-phrase subject is made of ("A woman", "The subject").
_PERSON_WORDS = _words(
    "man men mans mens woman women male males female females boy boys girl girls lady ladies guy guys "
    "gentleman gentlemen person persons pedestrian pedestrians individual individuals subject subjects child "
    "children kid kids toddler toddlers teen teens teenager teenagers adolescent adolescents adult adults "
    "student students youth lad lads"
)
_PERSONS = _any(*sorted(_PERSON_WORDS, key=len, reverse=True))
_IDENTITY = _any(
    # people, age, build, height, origin, looks
    _PERSONS, "teenage", "young(?:er)?", "old(?:er)?", "elderly", "aged", "age", "handsome", "pretty",
    "beautiful", "attractive",
    "(?:twent|thirt|fort|fift|sixt|sevent)ies", "slender", "lean", "fat",
    "chubby", "plump", "stout", "stocky", "portly", "heavyset", "overweight", "obese", "muscular",
    "burly", "petite", "build", "frame", "height", "asian", "african", "caucasian",
    "european", "hispanic", "latin[ao]", "foreign(?:er)?", "descent",
    # hair, face, skin, glasses
    _FACE_NOUNS, "bald(?:ing)?", "braided", "fringe", "afro", "blond(?:e)?", "brunette",
    "redhead", "curls", "curly", "wavy", "dreadlocks", "mohawk", r"shaved\s+head", "faces?", "bearded",
    "stubble", "skinned", "tanned", "freckles", "expression", "smil(?:e|es|ing)", "happy", "spectacles",
    "specs",
    # posture and action
    r"walk\w*", "runs?", "running", "jog(?:s|ging)?", "stand(?:s|ing)?", "stood", "sits?", "sitting", "sat",
    "seated", "looking", r"(?:mid-)?strid\w*", "steps?", "stepping", "lean(?:s|ing)", "turn(?:s|ing)",
    r"bend\w*", "bent", r"crouch\w*", r"squat\w*", "stoop(?:s|ing|ed)?", "shopping", "waiting",
    "cross(?:es|ing)", "rid(?:es|ing)", "push(?:es|ing)?", r"smok\w*", "cigar(?:ette)?s?", r"talk\w*",
    "texting", "chatting", "eating", "drinking", "reading", "posture", "pos(?:es?|ing)", "fists?",
    r"climb\w*", r"point(?:s|ing)", r"gestur\w*", r"danc\w*", "wav(?:es|ing)", "us(?:es|ing)", r"exit\w*",
    "enter(?:s|ing)", r"approach\w*", r"hurr\w*", r"rush\w*", "sweep(?:s|ing)", "stroll(?:s|ing)?",
    "jump(?:s|ing|ed)?", "aim(?:s|ing)",
)  # fmt: skip

_CLOTHING = _any(
    # garments
    "(?:under|sweat|t-?)?shirts?", "tees?", r"tops?(?!\s+of\b)", "blouses?", "polos?", "jerseys?", "tunics?",
    "camisoles?", "(?:over|rain)?coats?", "jackets?", "trench", "parkas?", "anoraks?", "windbreakers?",
    "blazers?", "hood(?:ie|y)s?", "sweaters?", "jumpers?", "cardigans?", "pullovers?", "fleeces?", "vests?",
    "waistcoats?", "suits?", "tuxedos?", "uniforms?", "robes?", "gowns?", "(?:sun)?dress(?:es)?",
    "(?:mini)?skirts?", "pants", "trousers", "slacks", "(?:blue)?jeans?", "denims?", "shorts", "leggings",
    "tights", "capris", "pantyhose", "stockings", "socks", "overalls", "jumpsuits?", "rompers?",
    "tracksuits?", "(?:sweat|track)pants", "joggers", "chinos", "bottoms", "turtlenecks?", "aprons?",
    "veils?", "shawls?", "ponchos?", "capes?", "cloth(?:e?s)?", "clothing", "outfits?", "attire", "garments?",
    "apparel", "dressed", "clad",
    # footwear
    "shoes?", "sneakers?", "trainers", "boots?", "sandals?", "heels?", "slippers?", "loafers?", "flats",
    "pumps", r"flip[-\s]?flops?", "footwear", "barefoot(?:ed)?", "soles?", "laces?", "clogs",
    # bags and carried things
    "bags?", r"(?:back|book|school|hand)\s?(?:bag|pack)s?", "knapsacks?", "rucksacks?", "purses?",
    "satchels?", "pocketbooks?", "totes?", "briefcases?", "suitcases?", "luggage", "wallets?", "pouch(?:es)?",
    "clutch(?:es)?", "umbrellas?", "parasols?", "strollers?", "prams?", "carriages?", "carts?", "trolleys?",
    "trays?", "bottles?", "cups?", "mugs?", "(?:note)?books?", "folders?", "box(?:es)?", "laptops?", "canes?",
    "crutch(?:es)?", "balls?", "basketballs?", "toys?", "dolls?", "flowers?", "drinks?", "packages?",
    # headwear and accessories
    "hats?", "caps?", "beanies?", "helmets?", "berets?", "visors?", r"(?:head\s?)?scar(?:f|ves)",
    "bandanas?", "hijabs?", "turbans?", "headbands?", "scrunchies?", "masks?", "gloves?", "mittens?",
    "bracelets?", "(?:wrist)?watch(?:es)?", "necklaces?", "chains?", "earrings?", "pendants?",
    "jewel(?:le)?ry", "belts?", "badges?", "tags?", "stethoscopes?", "hoods?",
    "(?:ear|head)(?:phone|bud|set)s?", r"(?:bow\s?)?ties?", "suspenders", "lanyards?",
    # garment details
    "sleeves?", "sleeved", "sleeveless", "straps?", "collars?", "collared", "lapels?", "cuffs?", "hems?",
    "pockets?", "logos?", "prints?", "printed", "patterns?", "patterned", "stripe[sd]?", "stripped", "plaid",
    "checkered", "floral", "zip(?:ped|pers?)?", r"button(?:s|ed)?(?:[\s-]+(?:down|up))?", "trim",
    "designs?", "graphics?", "pictures?", "images?", "letter(?:s|ing)", "leather", "wool(?:l?en)?", "cotton",
    "silk", "fur", "knit(?:ted)?", "velvet", "corduroy", "suede", "nylon", "padded", "quilted", "puffy",
    # carrying
    "carr(?:y|ies|ied|ying)", "hold(?:s|ing)?", "held", "pull(?:s|ing)?", "drag(?:s|ging|ged)?",
)  # fmt: skip

_OTHER = _any(
    r"from\s+(?:the\s+)?(?:back|behind|front|side|rear|above|distance)", r"views?", "viewed",
    r"seen(?!\s+(?:with|wearing|carrying|holding)\b)",  # "can be seen with a bag" is not a viewpoint
    # a photo is the picture taken ("A photo of", "photographed"; "this photo" above), not one printed on a
    # garment ("a top with some sort of photo on the front")
    "visible", r"photo(?:graph)?(?=\s+of\b)", "photographed", r"in\s+a\s+photo(?:graph)?", "pictured",
    "blurr?(?:y|ed)", "background", "foreground", "streets?", "roads?", "sidewalks?", "pavement",
    "buildings?", "rooms?", "crowd", "weather", "bus", "cars?",
    r"(?:an)?other\s+(?:person|people|man|woman|pedestrian|girl|boy)", r"each\s+other", "people",
    "someone", "somebody", r"(?:fac|turn)(?:es|ed|ing)?\s+away",
    r"fac(?:es|ed|ing)\s+(?:to(?:wards?)?\s+)?(?:the\s+)?(?:left|right|front|forward|camera|viewer)",
)  # fmt: skip

_JOINER = r"[\s,/-]+"  # between modifiers of one noun: "long, dark", "curly/puffy", "shoulder-length"
# Between a body part and how or where it is, a copula and an adverb may come: "his hand is in his pocket",
# "her head is slightly tilted up".
_STATE = r"(?:(?:is|are|was|were)\s+)?(?:\w+ly\s+)?"
_OWNER = r"(?:(?:both|one|his|her|their|the)\s+){0,2}(?:(?:left|right)\s+)?"  # "both his", "her left"

# Cue phrases in priority order: (label, strong, pattern). A match claims its characters, so a later
# pattern cannot reuse them: "black hair" is identity and its "black" is no longer a garment colour.
_CUES: list[tuple[Label, bool, re.Pattern[str]]] = [
    (label, strong, re.compile(pattern, re.IGNORECASE))
    for label, strong, pattern in [
        # things named with a word that is otherwise identity: "a walking stick", "shopping covers" (bags), "a
        # drinking glass"
        (
            "clothing",
            True,
            r"\b(?:hair\s?(?:band|clip|tie|pin|bow|scrunchie)s?|walking\s+sticks?|(?:shopping|plastic|paper)\s+covers?"
            r"|drinking\s+(?:glass(?:es)?|cups?|bottles?))\b",
        ),
        # a print on a garment: "a shirt with people on it", "with a face on the front"
        (
            "clothing",
            True,
            r"\bwith\s+(?!(?:his|her|their)\b)(?:\w+\s+){1,3}?on\s+(?:it|them|the\s+(?:front|back|chest|sleeves?))\b"
            r"(?!\s+of\s+(?:his|her|their)\b)",
        ),
        # stripes, buttons and straps run down a garment or over the body, the person does not: "white stripes
        # running down the front", "A black strap, runs over her back"
        (
            "clothing",
            True,
            r"\b(?:stripes?|lines?|buttons?|zippers?|straps?)[\s,]+(?:run(?:s|ning)?|go(?:es|ing)?)\s+"
            r"(?:down|along|across|up|over)\b",
        ),
        # an accessory worn in the hair: "a white bow near the top of her hair", "a bow in her ponytail"
        (
            "clothing",
            True,
            r"\b(?:bows?|clips?|pins?|ribbons?|barrettes?|head-?bands?|scrunchies?)\s+(?:\w+\s+){0,4}?"
            rf"(?:his|her|their)\s+(?:\w+\s+)?{_HAIR_NOUNS}\b",
        ),
        # a garment on the face is worn, the face only says where: "a scarf which is covering her face",
        # "a mask on his face"
        (
            "clothing",
            True,
            r"\b(?:scar(?:f|ves)|masks?|veils?|hoods?|hats?|caps?|bandanas?|hijabs?|shawls?|helmets?|visors?)\s+"
            r"(?:(?:that|which)\s+(?:is\s+|are\s+)?(?:\w+ly\s+)?cover\w*|on|over|across)\s+(?:his|her|their)\s+(?:\w+\s+)?"
            r"(?:mouth|face|nose|eyes|chin|cheeks|neck|forehead|head|hair)\b",
        ),
        # the person named inside a garment's relative clause is not the sentence's subject: "The dark blue
        # shirt that this man wears has a grid pattern on it"
        (
            "clothing",
            True,
            rf"\b{_CLOTHING}\s+(?:that|which)\s+(?:(?:the|this|a|an)\s+)?(?:\w+\s+)?{_PERSONS}\s+"
            r"(?:is\s+|was\s+)?(?:wears|wore|wearing|has\s+on|had\s+on|is\s+dressed\s+in)\b",
        ),
        ("other", False, r"\b(?:the|this|that)\s+(?:image|picture|photo(?:graph)?)\b"),
        # a hand or arm held is an action, a thing held is carried: "holding hands", "holds his left arm up"
        (
            "identity",
            True,
            r"\bhold\w*\s+(?:(?:the|his|her|their|a|an|\w+'s)\s+)?(?:\w+\s+)?(?:hands?|arms?)\b"
            r"(?!\s*-?\s*(?:bag|held))",
        ),
        # holding on to another person is an action, the other person with it (not the scene's other people):
        # "is clutched to another person", "hugging a child"
        (
            "identity",
            True,
            r"\b(?:clutch(?:es|ed|ing)?|hug(?:s|ged|ging)?|embrac(?:es?|ed|ing)|cling(?:s|ing)?|clung|cuddl\w+)\s+"
            rf"(?:(?:to|onto|with)\s+)?(?:(?:(?:an)?other|a|an|the|his|her|their)\s+)?(?:\w+\s+)?"
            rf"(?:{_PERSONS}|people|someone|somebody|friend|partner|baby)\b",
        ),
        # a phone or headphones in use is an action (identity); a phone merely held is carried (clothing)
        (
            "identity",
            True,
            r"\b(?:look|star|gaz|glanc|talk|play|text|us|listen)\w*\s+(?:down\s+)?(?:at|on|into|with|to)?\s*"
            r"(?:(?:a|an|the|his|her|their)\s+)?(?:\w+\s+)?(?:cell\s?|mobile\s?|smart\s?|head\s?|ear\s?)?phones?\b"
            r"(?:\s+(?:held\s+)?in\s+(?:his|her|their)\s+(?:left\s+|right\s+)?hand)?"
            r"|\bon\s+(?:the|a|his|her|their)\s+(?:cell\s?|mobile\s?|smart\s?)?phone\b"
            rf"|\b(?:{_SHADES}[\s,-]+){{0,2}}(?:cell\s?|mobile\s?|smart\s?)?phones?\s+"
            r"(?:(?:held|\w+ed)\s+)?(?:up\s+)?(?:to|at|against|by)\s+(?:(?:his|her|their)\s+)?(?:(?:left|right)\s+)?"
            r"(?:ears?|face|mouth|eyes?)(?:\s+level)?\b",
        ),
        # so is a drink in use: "drinking from a water bottle" (a bottle merely held is carried)
        (
            "identity",
            True,
            r"\b(?:drink(?:s|ing)|sip(?:s|ping))\s+(?:from\s+)?(?:(?:a|an|the|his|her|their|some)\s+)?(?:\w+\s+){0,2}?"
            r"(?:bottles?|cups?|mugs?|cans?|drinks?|straws?)\b",
        ),
        # holding on to one's own garment is a gesture: "holding on to the right side of her jacket",
        # "grabbing his pants"
        (
            "identity",
            True,
            r"\b(?:hold\w*\s+on\s*to|grab(?:s|bing|bed)?)\s+(?:\w+\s+){0,5}?(?:his|her|their)\s+(?:\w+\s+)?"
            r"(?:(?:jacket|coat|shirt|top|blouse|sweater|cardigan|skirt|dress|hood|collar)s?"
            r"|pants|jeans|shorts|trousers)\b",
        ),
        # a garment long enough to reach the floor: "a skirt that is full length and touches the floor"
        ("clothing", True, r"\b(?:touch|reach|brush)(?:es|ing)\s+the\s+(?:floor|ground)\b"),
        # a child pushed in a carriage is the carriage pushed, like a stroller: "pushing a baby in a carriage"
        (
            "clothing",
            True,
            r"\bpush(?:es|ing)?\s+(?:\w+\s+){0,3}?in\s+(?:a|an|the|his|her|their)\s+(?:\w+\s+)?"
            r"(?:strollers?|prams?|carriages?|buggy|buggies|wheelchairs?|carts?)\b",
        ),
        # reaching or looking into a bag, or touching one, is an action, the bag is still carried: "digging
        # into | her bag", "touching | a black luggage bag"
        (
            "identity",
            True,
            r"\b(?:dig(?:s|ging)?|reach(?:es|ing)|rummag(?:es|ing)|search(?:es|ing)|look(?:s|ing)?)\s+"
            r"(?:in|into|inside|through)\b|\btouch(?:es|ing)\b",
        ),
        # what the person faces in the scene is part of how they stand: "faces a coat rack"
        (
            "identity",
            True,
            r"\bfac(?:es|ing)\s+(?:a|an|the)\s+(?:\w+\s+){0,2}?"
            r"(?:racks?|shel(?:f|ves)|walls?|windows?|doors?|counters?|mirrors?)\b",
        ),
        # a thing held in the hand or by the arm, at one's side or at chest level, is carried, not a posture:
        # "her phone in her left hand by her side", "a bag in her lifted left hand at chest level"
        (
            "clothing",
            True,
            rf"\b(?:in|by|under)\s+(?=(?:both|one|his|her|their|the)\b){_OWNER}(?:\w+ed\s+)?{_OWNER}"
            rf"(?:hands?|arms?)\s+(?:by|at|on|near|against)\s+{_OWNER}"
            r"(?:sides?|chest|waist|hips?|stomach|shoulders?)(?:\s+(?:level|height))?\b",
        ),
        # a thing hangs from the arm however the arm is held: "a handbag from her bent elbow"
        (
            "clothing",
            True,
            r"\b(?:from|on|over|under|in|around)\s+(?:his|her|their)\s+(?:bent|raised|lifted|crooked|folded)\s+"
            r"(?:(?:left|right)\s+)?(?:arms?|elbows?|forearms?|wrists?)\b",
        ),
        # posture: hands in pockets, arms by the side, bent legs, head down
        (
            "identity",
            True,
            rf"\b{_OWNER}hands?\s+{_STATE}(?:on|in|into|behind|at|over|near|by)\s+(?:\w+\s+){{0,3}}?"
            r"(?:pockets?|head|hips?|waist|back|face|chest|mouth|sides?|rail(?:ing)?|knees?|cent(?:er|re)|middle)"
            r"(?:\s+pockets?)?\b",
        ),
        (
            "identity",
            True,
            rf"\b{_OWNER}(?:arms?|elbows?|hands?)\s+(?:\w+\s+){{0,4}}?"
            r"(?:sides?|cross(?:ed|ing)|folded|clasped|together|raised|bent|outstretched|extended|stretched"
            r"|swinging)\b",
        ),
        ("identity", True, r"\b(?:left|right|back|front)\s+(?:legs?|foot|feet|knees?|heel|toes?)\b"),
        # a strap or stripe across the body is worn: "the strap crossing over his back", "lines crossing the
        # chest"; an arm crossing it is a posture (above)
        (
            "clothing",
            True,
            r"(?<!\barms\s)(?<!\blegs\s)\bcross(?:es|ing|ed)?\s+(?:(?:over|across)\s+)?"
            r"(?:(?:the|his|her|their|upper|lower|left|right)\s+){0,3}(?:back|chest|body|torso|shoulders?|sleeves?)\b",
        ),
        # the person touching their own face is an action, but a mask "that covers her mouth" is worn, so
        # the verb must follow its subject or an auxiliary: "She is covering her mouth"
        (
            "identity",
            True,
            r"(?<!\bthat\s)(?<!\bwhich\s)\b(?:is|are|was|were|he|she|they|also|while|and)\s+(?:\w+ly\s+)?"
            r"(?:cover|touch|rub|scratch|wip|shield|cup|clasp)\w*\s+(?:his|her|their)\s+(?:\w+\s+)?"
            r"(?:mouth|face|nose|eyes?|ears?|chin|cheeks?|neck|forehead|hands?)\b",
        ),
        (
            "identity",
            True,
            r"\b(?:bow|bend|lower|tilt|turn|hang)\w*\s+(?:his|her|their)\s+head\b"
            rf"|\bhead\s+{_STATE}(?:looking\s+)?(?:down|up|bowed|lowered|tilted|turned)\b",
        ),
        (
            "identity",
            True,
            r"\b(?:look|gaz)(?:s|es|ing|ed)?\s+(?:(?:to(?:wards?)?|over)\s+(?:the|his|her|their)\s+)?"
            r"(?:(?:down|up)(?:\s+at)?|ahead|around|away|at|forward|back|straight|left|right|side|on|camera|viewer|ground"
            r"|floor)\b",
        ),
        ("identity", True, r"\b(?:years?\s+old|middle[-\s]aged)\b"),
        # "short" is a height only when said of the person; "shades" are sunglasses only when worn
        (
            "identity",
            True,
            r"\b(?:he|she|they)\s+(?:is|are|was|were|looks?)\s+(?:(?:very|quite|rather|fairly|somewhat)\s+)?short\b",
        ),
        # a colour said of the person, and of nothing after it, is the skin's: "He is white with dark hair"
        (
            "identity",
            True,
            rf"\b(?:he|she|they|{_PERSONS})\s+(?:is|are|was|were)\s+(?:white|black|brown|tan(?:ned)?|pale|dark|fair"
            r"|light)(?:[\s-]skinned)?(?=\s*(?:[.,;!?]|$|(?:with|and)\b))",
        ),
        ("identity", True, r"\b(?:wear\w*|pair\s+of|ha(?:s|ve)\s+on)\s+(?:\w+\s+)?shades\b"),
        # how far the hair reaches is not a garment: "hair cut to collar level", "hair past her shoulders"
        (
            "identity",
            True,
            rf"\b(?:{_FACE_MODIFIERS}{_JOINER}){{0,6}}{_FACE_NOUNS}\s+(?:\w+\s+){{0,3}}?"
            r"(?:to|past|below|above|over|at|behind|down|reach\w*|touch\w*)\s+"
            r"(?:(?:the|his|her|their|mid|bottom|middle|top|of)[\s-]+){0,4}"
            r"(?:collar|shoulders?|neck|back|waist|chin|ears?|chest)(?:[\s-]+(?:level|length))?\b",
        ),
        # "long straight black hair", "thick rimmed black glasses", "hair is dark and long"
        ("identity", True, rf"\b(?:{_FACE_MODIFIERS}{_JOINER}){{1,6}}{_FACE_NOUNS}\b"),
        (
            "identity",
            True,
            rf"\b{_FACE_NOUNS}(?:\s+tone)?\s+(?:is|are|was|were|looks?)\s+(?:{_FACE_MODIFIERS}[\s,]+){{0,3}}"
            rf"(?!(?:and|or)\b){_FACE_MODIFIERS}\b",
        ),
        # how the hair is worn: "wears her hair down" ("down" is no preposition here), "her hair is up", "hair
        # is held back" (held, but not carried)
        (
            "identity",
            True,
            rf"\b{_HAIR_NOUNS}\s+{_STATE}(?:(?:held|pulled|tied|pinned|swept|brushed)\s+)?(?:down|up|back|loose)\b",
        ),
        ("other", False, rf"\b{_OTHER}\b"),
        # a garment's cut, not the person: "a white mens button up shirt", "women's shoes"
        ("clothing", True, rf"\b(?:m[ae]n'?s|wom[ae]n'?s)(?=\s+{_CLOTHING}{_END})"),
        ("identity", True, rf"\b{_IDENTITY}{_END}"),
        ("clothing", True, rf"\b{_CLOTHING}{_END}"),
        # weak: a build word is the person's unless a garment after it takes it ("a thin black belt")
        ("identity", False, rf"\b(?:slim|thin|skinny|heavy|tall){_END}"),
        # weak: a colour may be the hair's, a phone may be in use, what is worn may be glasses, and
        # "something" the person has is most often carried ("with something over shoulder")
        (
            "clothing",
            False,
            rf"\b(?:{_COLOURS}|(?:cell|mobile|smart)?\s?phones?|pairs?\s+of|wear(?:s|ing)?|wore|worn|something)"
            rf"{_END}",
        ),
    ]
]

_TOKEN = re.compile(r"[^\W_]+(?:['’/-][^\W_]+)*|[.!?;,:]")
_SENTENCE_END = frozenset(".!?")
_CHUNK_END = frozenset(";,:")
_SHADE = re.compile(_SHADES, re.IGNORECASE)
_UNNAMED = re.compile(_any(_SHADES, "something"), re.IGNORECASE)
_PERSON = re.compile(_PERSONS, re.IGNORECASE)
_FACE_NOUN = re.compile(_FACE_NOUNS, re.IGNORECASE)

# Where a chunk whose cues disagree may be cut: before these words...
_CONJUNCTIONS = _words("and but while whilst who plus no there")
_RELATIVES = _words("that which")
_PREPOSITIONS = _words(
    "with without in on onto over under underneath beneath across around into inside outside by near next "
    "beside aside from behind along at toward towards through past down against between among"
)
_PRONOUNS = _words("he she they he's she's they're")
_POSSESSIVES = _words("his her their")
_OBJECTS = _words("him her them himself herself themselves")
_BE = _words("is are was were")
_VERBS = _BE | _words(
    "has have had wears wore wear carries carried carry holds held hold appears seems looks walks stands "
    "runs sits stood sat leans turns steps crosses climbs points waves exits enters approaches hurries "
    "strolls jumps touches dressed clad pulls pushes rides talks bends wearing carrying holding pulling "
    "pushing dragging walking running jogging standing sitting looking talking using texting riding crossing "
    "waiting turning smoking reading eating drinking playing touching sweeps sweeping aims aiming"
)
# ...but not before a verb whose subject is one of these (or that follows an auxiliary or a determiner).
_NOT_SUBJECTS = (
    _BE
    | _PRONOUNS
    | _POSSESSIVES
    | _words(
        "be been being am has have had do does did i we you it who which that there this these those a an "
        "the its my some also still currently now just both all not never always slowly probably possibly "
        "seemingly apparently to and or but while with"
    )
)
# In run-on captions a new noun phrase starts at an article that follows a noun: "ponytail a pair of".
_ARTICLES = _words("a an the")
_NOT_NOUNS = _NOT_SUBJECTS | _VERBS | _PREPOSITIONS | _words("of as such quite what")
# Where the object of a verb ends: "with a yellow object in his hand", "in a blue and white coat" are one.
_PHRASE_ENDS = (_CONJUNCTIONS - {"and"}) | _PRONOUNS | _VERBS
# Unknown words in a verb's place are actions ("is playing", "while taking", "she clasps"), unless the
# subject is a thing ("a shirt is hanging") or the word is a function word or a linking verb.
_ADVERBS = _words("also still now just currently")
_WHILE = _words("while whilst")
_HE_SHE = _words("he she")
_THINGS = _words("that which it")
_TOUCHING = _words("touches touching")
_NOT_ACTIONS = _NOT_SUBJECTS | _words("appears seems looks")  # "she looks young"
# Leading words dropped from a clause, as the labelled captions do.
_CONNECTORS = _words("and but or plus then")
# A cue-less piece ending in one of these belongs to what follows ("She has long, black hair").
_DANGLING = (
    _PREPOSITIONS
    | _VERBS
    | _words(
        "a an the his her their of pair long short dark light pale bright deep medium very thick loose "
        "tight baggy big small large little colored coloured fitting fitted"
    )
)


class _Cue(NamedTuple):
    start: int
    end: int
    label: Label
    strong: bool


class _Token(NamedTuple):
    start: int
    end: int
    word: str  # lower-cased
    cue: _Cue | None


def _find_cues(text: str) -> tuple[list[_Cue | None], set[int]]:
    """Per character, the cue phrase that claimed it; and where cues end (to unglue words)."""
    owner: list[_Cue | None] = [None] * len(text)
    ends: set[int] = set()
    for label, strong, pattern in _CUES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if start < end and all(cue is None for cue in owner[start:end]):
                owner[start:end] = [_Cue(start, end, label, strong)] * (end - start)
                ends.add(end)
    return owner, ends


def _typos(words: frozenset[str]) -> dict[str, tuple[str, _Cue]]:
    """Each lexicon word with one letter dropped or doubled ("waling", "carring", "wearring"), mapped to the
    word and its cue. A changed letter is not undone: it more often makes another real word ("near" for
    "wear", "head" for "held"). Typos shorter than 5 letters are left out ("ears" is no "wears"), and so are
    those two words share ("alking") and words that are no cue on their own."""
    found: dict[str, set[str]] = {}
    for word in words:
        for i in range(len(word)):
            for typo in (word[:i] + word[i + 1 :], word[: i + 1] + word[i:]):
                if len(typo) >= 5:
                    found.setdefault(typo, set()).add(word)
    typos = {}
    for typo, sources in found.items():
        word = min(sources)
        cue = _find_cues(word)[0][0]
        if len(sources) == 1 and typo not in words and cue is not None and cue.end == len(word):
            typos[typo] = (word, cue)
    return typos


_TYPOS = _typos(_VERBS | _PERSON_WORDS)


def _verb_marker(tokens: list[_Token], i: int) -> int | None:
    """Where tokens[i] stands as a verb, the index of the word that shows it: a form of "be" or "while"
    before "-ing" ("is also playing", "while taking"), "he" or "she" before "-s" ("she clasps")."""
    j = i - 1
    if j > 0 and (tokens[j].word in _ADVERBS or tokens[j].word.endswith("ly")):
        j -= 1
    word, before = tokens[i].word, tokens[j].word if j >= 0 else ""
    if (word.endswith("ing") and before in _BE | _WHILE) or (word.endswith("s") and before in _HE_SHE):
        return j
    return None


def _is_verb(tokens: list[_Token], i: int) -> bool:
    """Whether tokens[i] is a lexicon verb or an unknown word in a verb's place."""
    return tokens[i].word in _VERBS or _verb_marker(tokens, i) is not None


def _is_persons_action(tokens: list[_Token], i: int) -> bool:
    """Whether the unknown word tokens[i] is a verb whose subject is the person: "He is playing", "A girl in a
    blue dress is playing", "while looking"; not "a dress that is blowing" or "Her shirt is hanging"."""
    j = _verb_marker(tokens, i)
    if tokens[i].word in _NOT_ACTIONS or j is None:
        return False
    if tokens[j].word not in _BE or j == 0:
        return True
    subject = tokens[j - 1]
    if subject.word in _THINGS:
        return False
    return subject.cue is None or subject.cue.label != "clothing" or _names_person_before(tokens, j - 1)


def _names_person_before(tokens: list[_Token], i: int) -> bool:
    """Whether the sentence names the person before tokens[i]: a garment before "is" is then in a phrase
    of theirs ("A girl in a blue dress is playing"), else it is the subject ("Her shirt is hanging")."""
    for token in reversed(tokens[:i]):
        if token.word in _SENTENCE_END:
            return False
        if token.word in _PRONOUNS or _PERSON.fullmatch(token.word):
            return True
    return False


def _with_defaults(tokens: list[_Token]) -> list[_Token]:
    """Words the lexicon does not know: a typo of a lexicon word takes that word's cue ("WALING"), and a verb
    of the person's own is what they do ("is playing with", "is listening to"), so identity."""
    known = []
    for i, token in enumerate(tokens):
        if token.cue is None and token.word in _TYPOS:
            word, cue = _TYPOS[token.word]
            token = token._replace(word=word, cue=cue._replace(start=token.start, end=token.end))
        elif token.cue is None and _is_persons_action(tokens, i):
            token = token._replace(cue=_Cue(token.start, token.end, "identity", True))
        known.append(token)
    return known


def _looked_at(tokens: list[_Token]) -> list[_Token]:
    """What the person looks at is part of the looking, not a thing worn or carried ("is looking down at a
    book", "looking at the ground"): the words of its phrase take the looking's cue."""
    looked: list[_Token] = []
    cue = None
    for token in tokens:
        if cue is not None and token.word not in _PHRASE_ENDS | _PREPOSITIONS and token.word.isalnum():
            token = token._replace(cue=cue)
        else:
            cue = None
        if (
            token.word == "at"
            and token.cue is not None
            and token.cue.label == "identity"
            and token.cue.end == token.end
        ):
            cue = token.cue
        looked.append(token)
    return looked


def _tokens(text: str) -> list[_Token]:
    """Words and punctuation, each word with the cue it belongs to; glued words are cut apart."""
    owner, ends = _find_cues(text)
    tokens = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        cut = next((p for p in range(start + 1, end) if p in ends and text[p:end].lower() in _GLUED), end)
        for a, b in ((start, cut), (cut, end)) if cut < end else ((start, end),):
            cues = [cue for cue in owner[a:b] if cue is not None]
            strong = [cue for cue in cues if cue.strong]
            tokens.append(_Token(a, b, text[a:b].lower(), (strong or cues or [None])[-1]))
    return _looked_at(_with_defaults(tokens))


def _dangles(token: _Token) -> bool:
    """Whether a piece ending in this word wants what follows ("a tight", "in dark"); one that closes a
    strong cue phrase of several words is whole ("her hair is short and dark")."""
    cue = token.cue
    closes = cue is not None and cue.strong and cue.start < token.start and cue.end == token.end
    return token.word in _DANGLING and not closes


def _label(tokens: list[_Token]) -> Label | None:
    """The last strong cue decides (the head noun comes last: "skinny jeans"), else the last weak cue.
    A piece that dangles ("a pair of", "in dark") has no head noun: only a strong cue may label it."""
    cues = [token.cue for token in tokens if token.cue is not None]
    strong = [cue for cue in cues if cue.strong]
    if _dangles(tokens[-1]):
        cues = strong
    return (strong or cues)[-1].label if cues else None


def _ends_action(token: _Token) -> bool:
    """Whether the token is the preposition or verb of touching that ends an action cue ("digging into",
    "touching"): what follows is the action's object, which may be a garment or bag in its own right."""
    cue = token.cue
    return (
        cue is not None
        and cue.label == "identity"
        and cue.end == token.end
        and token.word in _PREPOSITIONS | _TOUCHING
    )


def _keeps_object(tokens: list[_Token], i: int) -> bool:
    """Whether the phrase that the preposition tokens[i] opens is the object of the action just before it
    and names nothing worn, carried or around the person: "is playing with a yellow object" stays whole,
    "is walking | with a red bag" and "is walking | down the street" do not."""
    cue = tokens[i - 1].cue
    if cue is None or cue.label != "identity" or not _is_verb(tokens, i - 1):
        return False
    phrase = takewhile(lambda token: token.word not in _PHRASE_ENDS, tokens[i + 1 :])
    return not any(_names_thing(token) for token in phrase)


def _names_thing(token: _Token) -> bool:
    """Whether a word names something worn or carried, or the surroundings; a colour alone does not, nor
    does "something" ("is pointing at something")."""
    cue = token.cue
    return cue is not None and (
        cue.label == "other"
        or (cue.label == "clothing" and (cue.strong or not _UNNAMED.fullmatch(token.word)))
    )


def _runs_on(previous: _Token, token: _Token) -> bool:
    """Whether a new phrase starts at token in a caption without punctuation: a garment right after the hair
    ("short hair | blue shirt"), or something of the person's own right after a garment ("Brown shoes | bald
    spot"); the two cannot describe each other."""
    cue, before = token.cue, previous.cue
    if cue is None or cue.start != token.start:
        return False
    if cue.label == "clothing":
        return bool(_FACE_NOUN.fullmatch(previous.word))
    return (
        cue.label == "identity"
        and before is not None
        and before.label == "clothing"
        and before.strong
        and before.end == previous.end
        and previous.word not in _VERBS  # "A casual dressed women" is one phrase
    )


def _is_particle(tokens: list[_Token], i: int) -> bool:
    """Whether the preposition tokens[i] has no object of its own: a conjunction follows ("has a backpack on
    and ..."), or another preposition that has one ("is walking around | with a bag")."""
    if tokens[i].word not in _PREPOSITIONS:
        return False
    following = [token.word for token in tokens[i + 1 : i + 3]] + ["", ""]
    has_object = following[1] not in _CONNECTORS | {""}
    return following[0] in _CONNECTORS or (following[0] in _PREPOSITIONS and has_object)


def _is_object(tokens: list[_Token], i: int) -> bool:
    """Whether tokens[i] is the person as the object of a preposition ("in front of her"), not a possessive
    (used where no noun follows it)."""
    return tokens[i].word in _OBJECTS and i > 0 and tokens[i - 1].word in _PREPOSITIONS | {"of"}


def _places_by_person(tokens: list[_Token], i: int) -> bool:
    """Whether the preposition tokens[i] only says where a thing is from the person ("raised in front of her",
    "behind him"): its object is the person, so it describes what comes before it. "her" is the person, not
    a possessive, when no noun follows it ("in front of her holding a drink")."""
    j = i + 1
    if [token.word for token in tokens[j : j + 2]] in (["front", "of"], ["back", "of"]):
        j += 2
    if j >= len(tokens) or tokens[j].word not in _OBJECTS:
        return False
    return j + 1 == len(tokens) or tokens[j + 1].word in _CONJUNCTIONS or _is_verb(tokens, j + 1)


def _opens_clause(tokens: list[_Token], i: int) -> bool:
    """Whether a new attribute phrase may start at tokens[i] (used only inside mixed chunks)."""
    token, previous = tokens[i], tokens[i - 1].word
    word, cue = token.word, token.cue
    if cue is not None and cue == tokens[i - 1].cue:
        return False  # never inside a cue phrase
    if cue is not None and cue.strong and cue.start == token.start and cue.end > token.end:
        # a phrase such as "arm at down near his sides", unless a conjunction opened it ("while looking on")
        # or it is the noun of a determiner or a modifier ("holds a | phone up to her ear", "A thin | stripe
        # runs down the front" are no cuts)
        before = tokens[i - 1].cue
        modifier = bool(_SHADE.fullmatch(previous)) or (
            before is not None and not before.strong and before.label == "identity"  # "thin", "tall"
        )
        return previous not in _CONJUNCTIONS | _ARTICLES | _POSSESSIVES and not modifier
    if _runs_on(tokens[i - 1], token):
        return True
    if _PERSON.fullmatch(previous) and not any(t.word in _VERBS for t in tokens[: i - 1]):
        return True  # after the noun-phrase subject: "A woman | waring a red shirt"
    if word == "of":  # where the body ends and a garment begins: "hair hangs over the back | of her dress"
        cue = tokens[i - 1].cue
        following = tokens[i + 1].word if i + 1 < len(tokens) else ""
        return (
            cue is not None
            and cue.label == "identity"
            and cue.end == tokens[i - 1].end
            and following in _POSSESSIVES
        )
    if word == "also":  # a new predicate after a noun: "wearing glasses | also carries a bag"
        return tokens[i - 1].cue is not None and previous not in _NOT_NOUNS
    if word == "as":  # "glasses | as well as a black shirt", "purple | as the weather has become hotter"
        later = [token.word for token in tokens[i + 1 : i + 4]] + ["", "", ""]
        return later[:2] == ["well", "as"] or (later[0] in _ARTICLES | _POSSESSIVES and later[2] in _VERBS)
    if word == "and":  # "blue and white shirt" is one garment
        following = tokens[i + 1].word if i + 1 < len(tokens) else ""
        return not (_SHADE.fullmatch(previous) and _SHADE.fullmatch(following))
    if word in _RELATIVES:  # a clause that does something: "The man walking | that is carrying a bag", not
        # one that says how a thing is ("hair that is worn in a ponytail")
        later = [token.word for token in tokens[i + 1 : i + 3]] + [""]
        return later[0] in _VERBS - _BE or (later[0] in _BE and later[1] in _VERBS)
    if word in _PREPOSITIONS:  # not a particle, nor an action's plain object, nor a place by the person
        return (
            i + 1 < len(tokens)
            and not _is_particle(tokens, i)
            and not _keeps_object(tokens, i)
            and not _places_by_person(tokens, i)
        )
    if word in _CONJUNCTIONS:
        return True
    if word in _PRONOUNS:
        return previous != "or"  # "He or she carries"
    if word in _POSSESSIVES:
        if previous in _PREPOSITIONS:  # its object, unless the action's own: "digging into | her bag"
            return _ends_action(tokens[i - 1])
        return any(later.word in _BE for later in tokens[i + 1 : i + 5])  # "... his jeans are blue"
    if word in _ARTICLES:  # after a noun, not after a verb: "is wheeling a black bag"
        after_noun = previous not in _NOT_NOUNS and not _is_verb(tokens, i - 1)
        return (tokens[i - 1].cue is not None and after_noun) or _ends_action(tokens[i - 1])
    # a verb after its subject, or after the person as an object ("in front of her | holding a drink")
    return word in _VERBS and (previous not in _NOT_SUBJECTS or _is_object(tokens, i - 1))


def _pieces(chunk: list[_Token]) -> list[list[_Token]]:
    """A chunk whose cues agree stays whole; otherwise it is cut wherever a clause may open."""
    if len({token.cue.label for token in chunk if token.cue is not None}) < 2:
        return [chunk]
    cuts = [0] + [i for i in range(1, len(chunk)) if _opens_clause(chunk, i)] + [len(chunk)]
    return [chunk[a:b] for a, b in pairwise(cuts)]


def _fill(labels: list[Label | None], dangling: list[bool]) -> list[Label]:
    """Give each cue-less piece a label: one that dangles belongs to the piece after it and takes the label
    that piece ends up with ("has | her legs crossed"); any other takes its nearest labelled neighbour's,
    the previous one first. A sentence without any cue says what the person does: identity."""
    before = list(accumulate(labels, lambda last, label: label or last))
    after = list(accumulate(reversed(labels), lambda last, label: label or last))[::-1]
    filled = [
        label or (None if d else b or a)
        for label, b, a, d in zip(labels, before, after, dangling, strict=True)
    ]
    for i in reversed(range(len(filled))):
        filled[i] = filled[i] or (filled[i + 1] if i + 1 < len(filled) else before[i])
    return [label or "identity" for label in filled]


def _split(tokens: list[_Token], marks: frozenset[str]) -> list[list[_Token]]:
    """The runs of tokens between the punctuation `marks`."""
    cuts = [i for i, token in enumerate(tokens) if token.word in marks]
    return [tokens[a + 1 : b] for a, b in pairwise([-1, *cuts, len(tokens)])]


def _only_shades(run: list[_Token]) -> bool:
    """Whether a run is colours alone, with no noun of its own: "white, salt & pepper hair"."""
    return all(_SHADE.fullmatch(token.word) or token.word in _CONNECTORS for token in run)


def _chunks(sentence: list[_Token]) -> list[list[_Token]]:
    """The runs between , ; : where a run that dangles ("wearing a tight") or is colours alone ("white")
    runs on into the next, whose head noun it describes ("a tight, blue jean vest", "white, salt & pepper
    hair"). A preposition before the comma has no object there: it is a particle ("sunglasses on, she is
    wearing ...") and the run ends with it."""
    chunks: list[list[_Token]] = []
    for run in _split(sentence, _CHUNK_END):
        last = chunks[-1][-1] if chunks and chunks[-1] else None
        if (
            last is not None
            and (_dangles(last) or _only_shades(chunks[-1]))
            and last.word not in _PREPOSITIONS
        ):
            chunks[-1] += run
        else:
            chunks.append(run)
    return chunks


def _sentence_clauses(text: str, sentence: list[_Token]) -> list[Clause]:
    """Cut a sentence into chunks, then into labelled pieces; same-label pieces of a chunk merge."""
    pieces: list[tuple[int, list[_Token]]] = []  # (chunk index, words)
    particles: set[int] = set()  # a piece ending in one is whole: "is slightly hunched over | with a bag"
    for index, chunk in enumerate(_chunks(sentence)):
        particles |= {token.start for i, token in enumerate(chunk) if _is_particle(chunk, i)}
        for piece in _pieces(chunk):
            while piece and piece[0].word in _CONNECTORS:
                piece = piece[1:]
            if piece:
                pieces.append((index, piece))
    dangling = [
        _dangles(words[-1]) and words[-1].start not in particles and not _is_object(words, len(words) - 1)
        for _, words in pieces
    ]
    labels = _fill([_label(words) for _, words in pieces], dangling)
    clauses: list[Clause] = []
    previous_chunk = None
    for (index, words), label in zip(pieces, labels, strict=True):
        start, end = words[0].start, words[-1].end
        if clauses and clauses[-1].label == label and index == previous_chunk:  # merge within a chunk
            start = clauses.pop().start
        clauses.append(Clause(text[start:end], label, start, end))
        previous_chunk = index
    return clauses


def split_clauses(text: str) -> list[Clause]:
    """The caption's clauses in order, each labelled identity, clothing or other."""
    if not isinstance(text, str):
        raise TypeError(f"caption must be a str, not {type(text).__name__}")
    return [
        clause
        for sentence in _split(_tokens(text), _SENTENCE_END)
        for clause in _sentence_clauses(text, sentence)
    ]


def _join(text: str, clauses: list[Clause], label: Label) -> str:
    """Adjacent clauses keep the caption's own words between them; other runs are joined by ", " within a
    sentence and ". " across sentences, and a run that repeats an earlier one ("The woman") is dropped."""
    runs: list[list[int]] = []
    last = -2
    for index, clause in enumerate(clauses):
        if clause.label == label:
            if index == last + 1:
                runs[-1][1] = clause.end
            else:
                runs.append([clause.start, clause.end])
            last = index
    joined, seen, previous_end = "", set(), 0
    for start, end in runs:
        if text[start:end].lower() not in seen:
            seen.add(text[start:end].lower())
            if joined:
                joined += ". " if any(c in _SENTENCE_END for c in text[previous_end:start]) else ", "
            joined += text[start:end]
            previous_end = end
    return joined


def split_caption(text: str) -> tuple[str, str]:
    """(identity text, clothing text) of a caption; either is "" when the caption names none."""
    clauses = split_clauses(text)
    return _join(text, clauses, "identity"), _join(text, clauses, "clothing")
