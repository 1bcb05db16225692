"""The caption splitter: the labelling conventions, its accuracy targets on labelled captions, the CLI."""

from __future__ import annotations

import importlib.util
import io
import json
from itertools import pairwise
from pathlib import Path

import pytest

from disreid.cli import main
from disreid.text import split_caption, split_clauses

_BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "splitter.py"
_spec = importlib.util.spec_from_file_location("splitter_benchmark", _BENCHMARK)
benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark)


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        # a subject pronoun stays with its verb
        ("He is wearing a red shirt.", ("", "He is wearing a red shirt")),
        # a noun-phrase subject is identity
        ("A man wearing a red shirt", ("A man", "wearing a red shirt")),
        ("The woman is wearing a black coat.", ("The woman", "is wearing a black coat")),
        # a mixed clause is cut at its prepositions
        ("a woman with long hair in a red coat", ("a woman with long hair", "in a red coat")),
        # a colour list is one garment
        ("A man in a blue and white shirt.", ("A man", "in a blue and white shirt")),
        (
            "A girl with black hair and a blue and white shirt",
            ("A girl with black hair", "a blue and white shirt"),
        ),
        # glasses and actions are identity; held objects, hats and bags are clothing
        ("She wears glasses and holds an umbrella.", ("She wears glasses", "holds an umbrella")),
        (
            "He is looking at his phone. He holds a coffee cup.",
            ("He is looking at his phone", "He holds a coffee cup"),
        ),
        (
            "The man has his hands in his pockets and a grey cap on.",
            ("The man has his hands in his pockets", "a grey cap on"),
        ),
        # a colour that describes hair is not a garment colour
        (
            "Her hair is short and black, her coat is black.",
            ("Her hair is short and black", "her coat is black"),
        ),
        # RSTPReid's run-on, punctuation-stripped captions
        (
            "a man in a black down jacketa pair of jeans he is walking",
            ("a man, he is walking", "in a black down jacketa pair of jeans"),
        ),
        ("", ("", "")),
        (" , . ", ("", "")),
        # what the person does is identity, even in a sentence with no other cue
        ("He is climbing stairs. He wears a blue shirt.", ("He is climbing stairs", "He wears a blue shirt")),
        ("A man in a red coat is on the phone.", ("A man, is on the phone", "in a red coat")),
        (
            "A man wearing a black jacket is pointing at something.",
            ("A man, is pointing at something", "wearing a black jacket"),
        ),
        ("Her left hand is on her left hip.", ("Her left hand is on her left hip", "")),
        # a person noun glued to a typo, or followed by one, is still the subject
        ("The womanis wearing a red coat.", ("The woman", "is wearing a red coat")),
        ("A woman waring a red shirt and black shoes.", ("A woman", "waring a red shirt and black shoes")),
        # facial hair after a list of garments; a chain around the neck is jewellery
        ("He is wearing a black shirt and sideburns.", ("sideburns", "He is wearing a black shirt")),
        (
            "A young man with short hair wears a chain around his neck.",
            ("A young man with short hair", "wears a chain around his neck"),
        ),
        # an adjective cut off by a comma belongs to the garment after it
        ("A woman wearing a tight, blue jean vest.", ("A woman", "wearing a tight, blue jean vest")),
        # under the arm is where a thing is carried, not a posture
        ("She is carrying books under her left arm.", ("", "She is carrying books under her left arm")),
        ("He is facing away from the camera.", ("", "")),
        # a hand held is an action; a phone in use stays whole; a bow in the hair is worn; hair length
        ("He is holding hands with a woman.", ("He is holding hands with a woman", "")),
        (
            "He is talking on a phone held in his left hand.",
            ("He is talking on a phone held in his left hand", ""),
        ),
        (
            "She has long black hair and a white bow in her hair.",
            ("She has long black hair", "a white bow in her hair"),
        ),
        (
            "The person has dark hair cut to collar level.",
            ("The person has dark hair cut to collar level", ""),
        ),
        ("A man in black pants is facing to the left.", ("A man", "in black pants")),
        # touching one's own face is an action; a mask that covers the mouth is worn
        (
            "She is covering her mouth with her hand and carries a red bag.",
            ("She is covering her mouth with her hand", "carries a red bag"),
        ),
        ("He wears a mask that covers his mouth.", ("", "He wears a mask that covers his mouth")),
        # how glasses look; a strap across the body; bags called covers; a print of faces or people
        ("He wears clear framed glasses.", ("He wears clear framed glasses", "")),
        (
            "He has a bag with the strap crossing over his chest.",
            ("", "He has a bag with the strap crossing over his chest"),
        ),
        ("He is crossing the street in a red coat.", ("He is crossing the street", "in a red coat")),
        ("She holds plastic shopping covers.", ("", "She holds plastic shopping covers")),
        (
            "She wears a white shirt with cartoon faces on it.",
            ("", "She wears a white shirt with cartoon faces on it"),
        ),
        # which way the person looks; a new predicate after "also"; where the hair ends and a garment begins
        ("The boy is looking to his left.", ("The boy is looking to his left", "")),
        (
            "A man wearing glasses also carries a black bag.",
            ("A man wearing glasses", "also carries a black bag"),
        ),
        ("The lad wears a red coat.", ("The lad", "wears a red coat")),
        (
            "Her long hair hangs over the back of her white dress.",
            ("Her long hair hangs over the back", "of her white dress"),
        ),
        # a colour with "-ish" and a styled cut describe the hair; "looking on" is where the person looks
        ("Her hair is reddish brown and loose.", ("Her hair is reddish brown and loose", "")),
        (
            "She wears red heels and has styled black hair.",
            ("has styled black hair", "She wears red heels"),
        ),
        ("He is pushing a stroller while looking on.", ("while looking on", "He is pushing a stroller")),
        # "slight" alone is no build; a bow in a ponytail and a scarf over the face are worn
        ("She wears black shoes with a slight wedge.", ("", "She wears black shoes with a slight wedge")),
        ("She wears a pink bow in her ponytail.", ("", "She wears a pink bow in her ponytail")),
        (
            "She wears a scarf which is covering her face.",
            ("", "She wears a scarf which is covering her face"),
        ),
        ("Her hair is partially covering her face.", ("Her hair is partially covering her face", "")),
        # a thing held by the arm at one's side is carried; "seen with" a bag is no viewpoint
        (
            "He is holding a box by his arm on his left side.",
            ("", "He is holding a box by his arm on his left side"),
        ),
        ("He can also be seen with a black bag.", ("", "He can also be seen with a black bag")),
        # gestures: holding on to one's own garment, reaching into a bag (still carried), facing a rack
        (
            "She is holding on to the collar of her coat.",
            ("She is holding on to the collar of her coat", ""),
        ),
        ("She is digging into her black bag.", ("She is digging into", "her black bag")),
        ("The woman faces a coat rack.", ("The woman faces a coat rack", "")),
        # looking into a bag; a possessive after a preposition is its object ("a watch on his wrist")
        ("She is looking in her bag.", ("She is looking in", "her bag")),
        (
            "He has a watch on his left wrist and is wearing glasses.",
            ("is wearing glasses", "He has a watch on his left wrist"),
        ),
        # a run-on caption: the garment after the hair opens a new phrase
        ("Woman with short hair blue shirt dark pants.", ("Woman with short hair", "blue shirt dark pants")),
        # more gestures and gazes: touching a hand, grabbing one's pants, a pose, toward the ground or camera
        ("She is touching her right hand.", ("She is touching her right hand", "")),
        ("He is grabbing his pants with one hand.", ("He is grabbing his pants with one hand", "")),
        ("He is striking a pose in red sneakers.", ("He is striking a pose", "in red sneakers")),
        ("He is gazing toward the ground.", ("He is gazing toward the ground", "")),
        (
            "He is looking toward the camera in a green shirt.",
            ("He is looking toward the camera", "in a green shirt"),
        ),
        # a verb the lexicon does not know is what the person does, with an object that names nothing worn
        # or carried; one whose object is carried, or whose subject is a garment, stays clothing
        (
            "He wears a grey coat and is feeding a white pigeon.",
            ("is feeding a white pigeon", "He wears a grey coat"),
        ),
        (
            "A girl in a blue dress is playing with a red kite.",
            ("A girl, is playing with a red kite", "in a blue dress"),
        ),
        ("She clasps her hands and wears a red scarf.", ("She clasps her hands", "wears a red scarf")),
        ("He is wheeling a black suitcase.", ("", "He is wheeling a black suitcase")),
        (
            "Her white shirt is hanging loose over black jeans.",
            ("", "Her white shirt is hanging loose over black jeans"),
        ),
        ("He is walking down the street in a red coat.", ("He is walking", "in a red coat")),
        # a lexicon verb or person noun with a letter dropped or doubled is still that word
        ("HE IS WALING IN A ROOM.", ("HE IS WALING", "")),
        ("A woman is carring a black bag.", ("A woman", "is carring a black bag")),
        ("He is walkking in a red coat.", ("He is walkking", "in a red coat")),
        ("Her black hair hangs over her ears.", ("Her black hair hangs over her ears", "")),  # no "wears"
        # a colour said of the person alone is the skin's; hair "is dark and long"; make-up is of the face
        (
            "The woman is pale with red hair. She wears a green coat.",
            ("The woman is pale with red hair", "She wears a green coat"),
        ),
        ("He is all in black.", ("", "He is all in black")),
        (
            "Her hair is long and straight and her skirt is pink.",
            ("Her hair is long and straight", "her skirt is pink"),
        ),
        ("She wears red lipstick and a black dress.", ("She wears red lipstick", "a black dress")),
        # headphones in use, a cigar in the mouth, a phone held to the ear: what the person does
        ("She is listening to her earphones.", ("She is listening to her earphones", "")),
        (
            "A man in a grey suit with a cigar in his mouth.",
            ("A man, with a cigar in his mouth", "in a grey suit"),
        ),
        ("She holds a phone to her ear.", ("She holds a phone to her ear", "")),
        # stripes crossing the chest are worn, an arm crossing it is a posture; a scrunchie is worn
        (
            "A grey top with white stripes crossing the chest.",
            ("", "A grey top with white stripes crossing the chest"),
        ),
        ("His left arm is crossing his chest.", ("His left arm is crossing his chest", "")),
        ("She has a pink scrunchie in her hair.", ("", "She has a pink scrunchie in her hair")),
        # a cue-less verb belongs to what follows it, whatever that turns out to be
        (
            "The woman has her legs crossed and wears black pants.",
            ("The woman has her legs crossed", "wears black pants"),
        ),
        # how the hair is worn ("down" is no preposition there); modifiers joined by a slash, and ones
        # that garments share ("puffy"), describe the hair they precede
        ("She wears her hair down with a red coat.", ("She wears her hair down", "with a red coat")),
        ("She has curly/puffy, black hair.", ("She has curly/puffy, black hair", "")),
        ("He wears a puffy black jacket.", ("", "He wears a puffy black jacket")),
        # a mask on the face is worn; a phone raised to eye level is in use
        ("He has a mask on his face.", ("", "He has a mask on his face")),
        ("She lifts up a black phone to eye level.", ("She lifts up a black phone to eye level", "")),
        # a posture said with a copula or an adverb; hands crossed or together; an arm held up
        (
            "He has a dark backpack and his hand is in his pocket.",
            ("his hand is in his pocket", "He has a dark backpack"),
        ),
        (
            "She has her hands crossed and wears a black dress.",
            ("She has her hands crossed", "wears a black dress"),
        ),
        ("Her head is slightly tilted up.", ("Her head is slightly tilted up", "")),
        ("She is holding her left arm up.", ("She is holding her left arm up", "")),
        # looking is what the person does wherever the gaze goes; standing and sitting in the past tense
        (
            "A woman in a dark tunic looking torwards a door.",
            ("A woman, looking torwards a door", "in a dark tunic"),
        ),
        ("The lady in a blue hoodie stood on one leg.", ("The lady, stood on one leg", "in a blue hoodie")),
        # a run-on caption: the person's own look after a garment opens a new phrase, as a garment after the
        # hair does; "something" the person has is carried, "something" looked or pointed at is not
        ("Black pants brown shoes bald spot", ("bald spot", "Black pants brown shoes")),
        ("man with something over shoulder", ("man", "with something over shoulder")),
        (
            "He is looking down at something in his hands.",
            ("He is looking down at something in his hands", ""),
        ),
        # "the top of" a body part is a place, not a garment; a hand in a back pocket is a posture
        (
            "A man with a balding spot at the top of his head is wearing a blue shirt.",
            ("A man with a balding spot at the top of his head", "is wearing a blue shirt"),
        ),
        ("His left hand is in his back pocket.", ("His left hand is in his back pocket", "")),
        # a hair length named by where the hair ends is no garment's: "collar length"
        ("She has collar length black hair.", ("She has collar length black hair", "")),
        # a preposition before a comma is a particle and stays with its run; a phone held to the ear
        (
            "A woman with huge sunglasses on, she is wearing a red dress.",
            ("A woman with huge sunglasses on", "she is wearing a red dress"),
        ),
        ("He has a phone held up to his right ear.", ("He has a phone held up to his right ear", "")),
        # a build word said of a garment's pattern is the garment's; said of the person it is theirs
        ("A white shirt with thin black lines.", ("", "A white shirt with thin black lines")),
        ("The man is tall and thin.", ("The man is tall and thin", "")),
        # touching a bag is an action and the bag is still carried
        (
            "She stands near a table touching a black bag.",
            ("She stands near a table touching", "a black bag"),
        ),
        # a relative clause that does something opens a phrase; one that says how the hair is does not
        (
            "The woman walking that is carrying a red bag wears a dress.",
            ("The woman walking", "that is carrying a red bag wears a dress"),
        ),
        (
            "She has black hair that is worn in a ponytail.",
            ("She has black hair that is worn in a ponytail", ""),
        ),
        # a preposition before another that has an object is a particle: it stays with the verb
        ("The man is walking around with a black bag.", ("The man is walking around", "with a black bag")),
        (
            "He wears glasses and is slightly hunched over with a blue shirt on.",
            ("He wears glasses and is slightly hunched over", "with a blue shirt on"),
        ),
        # actions with their objects: aiming, sweeping, a drink in use (a drink bottle held is carried)
        ("A man in a suit aiming a camera.", ("A man, aiming a camera", "in a suit")),
        ("She holds a broom and sweeps the floor.", ("sweeps the floor", "She holds a broom")),
        (
            "A man in a blue shirt drinking from a water bottle.",
            ("A man, drinking from a water bottle", "in a blue shirt"),
        ),
        ("He is holding an orange drink bottle.", ("", "He is holding an orange drink bottle")),
        # hands placed over the middle of a garment are a posture, the garment after "of" is worn
        (
            "She clasps her hands over the center of her skirt.",
            ("She clasps her hands over the center", "of her skirt"),
        ),
        # hair held back is how the hair is worn, not a thing carried
        (
            "Her hair is held back from her face with a headband.",
            ("Her hair is held back from her face", "with a headband"),
        ),
        # what is worn or not: a garment that reaches the floor, a men's shirt, clothes misspelt, bare feet, a
        # heel, stripes that run down a garment, a baby pushed in a carriage (like a stroller)
        (
            "A woman in a long skirt that touches the floor.",
            ("A woman", "in a long skirt that touches the floor"),
        ),
        ("A man wearing a white mens dress shirt.", ("A man", "wearing a white mens dress shirt")),
        ("This man has white cloths on.", ("This man", "has white cloths on")),
        (
            "The man is barefoot and is carrying a black bag.",
            ("The man", "is barefoot and is carrying a black bag"),
        ),
        ("She wears black shoes with a tall heel.", ("", "She wears black shoes with a tall heel")),
        (
            "He wears grey pants with white stripes running down the sides.",
            ("", "He wears grey pants with white stripes running down the sides"),
        ),
        ("She is pushing a baby in a carriage.", ("", "She is pushing a baby in a carriage")),
        # cheeks are the face's
        ("She has full rosy cheeks and red shoes.", ("She has full rosy cheeks", "red shoes")),
        # a run of colours alone, or one that ends in "fitting", describes the noun after the comma
        (
            "grey, salt & pepper hair and a black coat",
            ("grey, salt & pepper hair", "a black coat"),
        ),
        ("A girl in a loose fitting, red sweater.", ("A girl", "in a loose fitting, red sweater")),
        # a place by the person ("in front of him") stays with what it places; the verb after it opens
        (
            "His right arm is bent in front of him holding a coffee cup.",
            ("His right arm is bent in front of him", "holding a coffee cup"),
        ),
        ("He holds a red box in front of him.", ("", "He holds a red box in front of him")),
        # a thing in the hand at chest level, or hanging from a bent arm, is carried, not a posture
        (
            "She holds a phone in her raised right hand at chest level.",
            ("", "She holds a phone in her raised right hand at chest level"),
        ),
        ("She carries a purse from her bent elbow.", ("", "She carries a purse from her bent elbow")),
        # holding on to another person is an action, the other person with it
        (
            "The boy is hugging another child and wears a green coat.",
            ("The boy is hugging another child", "wears a green coat"),
        ),
        # a person named inside a garment's relative clause is not the subject
        (
            "The red jacket that the woman wears has a hood.",
            ("", "The red jacket that the woman wears has a hood"),
        ),
        # a photo on a garment is a print, not the picture taken
        (
            "A shirt with some sort of photo on the front.",
            ("", "A shirt with some sort of photo on the front"),
        ),
        # what the person looks at is part of the looking, not a thing carried
        (
            "The woman is looking down at a magazine while wearing a long coat.",
            ("The woman is looking down at a magazine", "while wearing a long coat"),
        ),
        # a strap runs over the body, the person does not; a build word before a garment is the garment's
        ("A thin strap runs over her back.", ("", "A thin strap runs over her back")),
        ("A black strap, runs over his back.", ("", "A black strap, runs over his back")),
        # "as" opens a clause when a subject and its verb follow; a drinking glass is carried
        (
            "She regrets wearing purple as the weather has become hotter.",
            ("She regrets", "wearing purple"),
        ),
        ("He is carrying a drinking glass and a bag.", ("", "He is carrying a drinking glass and a bag")),
    ],
)
def test_split_caption(caption: str, expected: tuple[str, str]) -> None:
    assert split_caption(caption) == expected


def test_a_comma_after_colored_runs_on_to_the_garment() -> None:
    clauses = split_clauses("She wears a dark colored, long sleeved shirt.")
    assert [(c.text, c.label) for c in clauses] == [
        ("She wears a dark colored, long sleeved shirt", "clothing")
    ]


def test_viewpoint_goes_to_neither_part() -> None:
    clauses = split_clauses("The woman is seen from the back. She has a red bag.")
    assert [(c.text, c.label) for c in clauses] == [
        ("The woman", "identity"),
        ("is seen from the back", "other"),
        ("She has a red bag", "clothing"),
    ]


def test_clauses_are_ordered_substrings() -> None:
    caption = "The man, who is tall, wears a grey coat; he carries a bag. His hair is black."
    clauses = split_clauses(caption)
    assert all(c.text == caption[c.start : c.end] for c in clauses)
    assert all(a.end <= b.start for a, b in pairwise(clauses))


def test_overlong_caption() -> None:
    caption = "A tall woman with long black hair wears a red coat, blue jeans and white shoes. " * 500
    identity, clothing = split_caption(caption)
    assert identity == "A tall woman with long black hair"  # repeated runs are not repeated
    assert clothing == "wears a red coat, blue jeans and white shoes"
    assert len(split_clauses(caption)) == 3 * 500


@pytest.mark.parametrize("caption", [None, b"a man", ["a man"], 3])
def test_non_string_is_a_type_error(caption: object) -> None:
    with pytest.raises(TypeError):
        split_caption(caption)


def test_score_follows_clause_placement() -> None:
    caption = "A man wearing a red shirt"
    right = {"caption": caption, "spans": [{"text": "A man", "label": "identity"}]}
    wrong = {"caption": caption, "spans": [{"text": "wearing a red shirt", "label": "identity"}]}
    assert benchmark.score([right])["identity_accuracy"] == 100.0
    assert benchmark.score([wrong])["identity_accuracy"] == 0.0


@pytest.mark.parametrize("path", [benchmark.REAL, benchmark.LABELLED], ids=["real", "labelled"])
def test_accuracy_targets(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path} is not in this checkout")
    result = benchmark.score(benchmark.read_jsonl(path))
    assert result["captions"] >= 100
    assert result["identity_accuracy"] >= 90
    assert result["clothing_accuracy"] >= 90
    assert result["identity_non_empty"] == 100


# Each held-out part was scored once, after the splitter was done, and not tuned on afterwards. The first
# (40) missed 2 of its 51 identity spans (a typo, "shirt dark hair", and "hangs over the back of" her
# dress) and was then seen, so it counts as development. The second (100) missed 3 of 128 identity spans
# (covering her mouth with her hand, "clear framed glasses", holding on to her jacket) and 2 of 330
# clothing spans (a strap "crossing" over his back, shopping "covers" held in her hand), and was then seen
# too. The third (100) scored 97.7 % identity, 98.6 % clothing: it missed 3 of 129 identity spans (hair
# "reddish brown and loose about her shoulders", "has styled black hair", "while looking on") and 4 of
# 283 clothing spans ("he can also be seen with a black bag", shoes "with a slight wedge", a bow "in her
# ponytail", an object held "by his arm on his left side"), and sent "can" and "seen" to neither part.
# It was then seen too, and the splitter of the fourth round places all its spans. The fourth (200)
# scored 96.8 % identity, 99.7 % clothing: it missed 8 of 247 identity spans ("wearing dark lipstick",
# "listening to head phones", "holds a phone up to her ear", a typo "He hair is dark", "a cigarette in his
# mouth", "playing with a yellow object", "He is white with dark hair", "HE IS WALING IN A ROOM") and 2 of
# 606 clothing spans (lines "crossing the chest" of a top, "a hair scrunchie"); the last caption's
# identity part is empty and its "WALING" lands in neither part. It was then seen too, and the splitter of
# the fifth round places all its spans. The fifth (200) scored 97.7 % identity, 99.3 % clothing: it missed 6
# of 257 identity spans ("wears her hair down", "his hand is in his pocket" after a backpack, "touching" a
# bag, "lifts up a black cell phone to eye level", a typo "looking torwards", "curly/puffy, black hair")
# and 4 of 586 clothing spans ("a white button down", "with something over shoulder" and "Brown shoes" in
# a run-on caption, "a mask on his face"), with no empty identity part and nothing dropped. It was then seen
# too, and the splitter of the sixth round places all its identity spans and all but one clothing span. The
# sixth (250) scored 97.7 % identity, 99.3 % clothing: it missed 7 of 308 identity spans ("The man walking
# that is carrying a backpack", "aiming a rifle", "drinking from a water bottle", "clasps her hands over the
# center of" her skirt, hair "held back from her face", "sweeps the street", "is walking around" with a bag)
# and 5 of 756 clothing spans (a skirt that "touches the floor", a "mens button up shirt", "white cloths",
# "pushing a baby in a carriage", "is barefoot"), with no empty identity part and one word ("street")
# dropped. It was then seen too, and the splitter of the seventh round places all its spans. The seventh
# (250) scored 98.7 % identity, 99.3 % clothing: it missed 4 of 316 identity spans ("white, salt & pepper
# hair", an arm "raised in front of her" before a held drink, "is clutched to another person", "looking
# down at a book") and 5 of 744 clothing spans (a bag "in her lifted left hand at chest level" and the
# object it contains, "The dark blue shirt that this man wears", "some sort of photo on the front" of a
# top, "a tight fitting, blue body suit"), with no empty identity part and 7 words dropped (the clutching
# clause, which goes with the other person, and the photo print, read as a viewpoint). It was then seen too,
# and the splitter of the eighth round places all its spans with nothing dropped. The eighth (250) scored
# 98.1 % identity, 99.7 % clothing: it missed 6 of 317 identity spans ("is in motion" after a garment,
# "her arms slants outwards sideways away from her clothes", a one-word "Struggling" before the package on
# her back, "waits" after a list of garments, a hand that "touches the back of his pants" and one that
# "slips into the back of the waistband") and 2 of 773 clothing spans ("a few white ties on her hair",
# "she is also exposing her legs"), with no empty identity part and nothing dropped.
@pytest.mark.parametrize(
    ("path", "identity_floor", "most_empty"),
    [
        (benchmark.VAL_DEV, 98, 0),
        (benchmark.VAL_HELDOUT, 98, 0),
        (benchmark.VAL_DEV2, 98, 0),
        (benchmark.VAL_HELDOUT2, 98, 0),
        (benchmark.VAL_DEV3, 98, 0),
        (benchmark.VAL_HELDOUT3, 98, 0),
        (benchmark.VAL_HELDOUT4, 98, 0),
        (benchmark.VAL_HELDOUT5, 98, 0),
        (benchmark.VAL_HELDOUT6, 98, 0),
        (benchmark.VAL_HELDOUT7, 98, 0),
        (benchmark.VAL_HELDOUT8, 98, 0),
    ],
    ids=[
        "dev",
        "first-held-out",
        "dev2",
        "held-out2",
        "dev3",
        "held-out3",
        "held-out4",
        "held-out5",
        "held-out6",
        "held-out7",
        "held-out8",
    ],
)
def test_real_validation_captions(path: Path, identity_floor: float, most_empty: int) -> None:
    """Real CUHK-PEDES captions labelled before the splitter was changed for them (tests/data/README.md)."""
    result = benchmark.score(benchmark.read_jsonl(path))
    assert result["identity_accuracy"] >= identity_floor
    assert result["clothing_accuracy"] >= 98
    assert result["empty_identity"] <= most_empty


@pytest.mark.parametrize(
    ("path", "most_dropped"),
    [
        (benchmark.LABELLED, 0),
        (benchmark.VAL_DEV, 0),
        (benchmark.VAL_HELDOUT, 0),
        (benchmark.VAL_DEV2, 0),
        (benchmark.VAL_HELDOUT2, 0),
        (benchmark.VAL_DEV3, 0),
        (benchmark.VAL_HELDOUT3, 0),
        (benchmark.VAL_HELDOUT4, 0),
        (benchmark.VAL_HELDOUT5, 0),
        (benchmark.VAL_HELDOUT6, 0),
        (benchmark.VAL_HELDOUT7, 0),
        (benchmark.VAL_HELDOUT8, 0),
    ],
    ids=[
        "labelled",
        "dev",
        "first-held-out",
        "dev2",
        "held-out2",
        "dev3",
        "held-out3",
        "held-out4",
        "held-out5",
        "held-out6",
        "held-out7",
        "held-out8",
    ],
)
def test_no_content_word_is_dropped(path: Path, most_dropped: int) -> None:
    """Every content word the gold labels give the person lands in the identity or the clothing part."""
    dropped = []
    for record in benchmark.read_jsonl(path):
        caption, placed, position = record["caption"], benchmark.placement(record["caption"]), 0
        for span in record["spans"]:
            start = caption.index(span["text"], position)
            position = start + len(span["text"])
            if span["label"] != "other":
                words = benchmark.content_words(caption, start, position)
                dropped += [w.group() for w in words if placed[w.start()] not in ("identity", "clothing")]
    assert len(dropped) <= most_dropped, dropped


def test_content_words_outside_viewpoint_reach_a_part() -> None:
    caption = "She is looking at something on the floor. He is gesturing. Legs and feet are bare."
    identity, clothing = split_caption(caption)
    words = {w.group() for w in benchmark.content_words(caption)}
    kept = {w.group() for w in benchmark.content_words(f"{identity} {clothing}")}
    assert words == kept


def test_cli_prints_both_parts(capsys) -> None:
    assert main(["split-caption", "A man wearing a red shirt"]) == 0
    assert capsys.readouterr().out == "identity: A man\nclothing: wearing a red shirt\n"


def test_cli_reads_stdin_as_json_lines(capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("A man wearing a red shirt\n\nHe wears glasses.\n"))
    assert main(["split-caption", "--json", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"identity": "A man", "clothing": "wearing a red shirt"},
        {"identity": "He wears glasses", "clothing": ""},
    ]
