"""PETA: the reader of its layout, `disreid prepare --dataset peta`'s checks, the captioner, the splits and
a few training steps, on a small download in PETA's layout that these tests make."""

from __future__ import annotations

import json
import math
import re
from itertools import cycle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from disreid.cli import main
from disreid.data.peta import captions as words
from disreid.data.peta.attributes import ABSENT, BINARY, KNOWN, factors_of
from disreid.data.peta.captions import describe
from disreid.data.peta.dataset import MANIFEST, build_records, read_peta, scan

pytestmark = pytest.mark.usefixtures("one_thread")

PERSONS = 20  # in 3DPeS: 16 to train on, 2 to validate on, 2 to test on
UNKNOWN_NAME = "upperBodyCamouflage"
BASE = ("personalMale", "personalLess30", "hairShort", "hairBlack", "upperBodyBlue", "lowerBodyBlack",
        "lowerBodyJeans", "upperBodyTshirt", "footwearWhite", "carryingBackpack")  # fmt: skip
TINY = [  # peta.yaml shrunk to a small model and batch
    "model.image_size=[32, 16]", "model.embed_dim=16", "model.self_layers=1", "model.cross_layers=1",
    "model.image_encoder={conv_stem: [8], patch_size: 4, hidden_size: 16, num_hidden_layers: 1, "
    "num_attention_heads: 2, intermediate_size: 32}",
    "model.text_encoder={hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, "
    "intermediate_size: 32}",
    "data.persons_per_batch=4", "data.instances_per_person=2", "train.epochs=2", "train.log_every=1",
    "train.device=cpu",
]  # fmt: skip


def save_image(path: Path, seed: int) -> None:
    colour = tuple(int(c) for c in np.random.default_rng(seed).integers(0, 256, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (12, 24), colour).save(path)


def write_subset(root: Path, subset: str, lines: list[str], images: list[str]) -> None:
    folder = root / subset / "archive"
    for index, name in enumerate(images):
        save_image(folder / name, hash((subset, index)) % 1000)
    (folder / "Label.txt").write_text("".join(f"{line}\n" for line in lines))


def write_peta(root: Path) -> Path:
    """3DPeS with 20 persons of 2 images, whose labels use every attribute name PETA has, and five faults:
    an unknown name (person 21), a person without images (22), a line without names (23), an image
    without a label (person 24) and an unreadable image (person 1's third). VIPeR with 6 persons of 2
    images, MIT and CUHK with 3 images each, labelled per image."""
    names = cycle(sorted(KNOWN))
    per_person = math.ceil(len(KNOWN) / PERSONS)
    lines = [
        " ".join([str(p), *BASE, *(next(names) for _ in range(per_person))]) for p in range(1, PERSONS + 1)
    ]
    lines += [f"21 personalMale {UNKNOWN_NAME}", "22 personalFemale hairLong", "23"]
    images = [f"{p}_{shot}_FRAME_{p}_RGB.bmp" for p in [*range(1, PERSONS + 1), 21] for shot in (1, 2)]
    write_subset(root, "3DPeS", lines, [*images, "24_1_FRAME_1_RGB.bmp"])
    (root / "3DPeS" / "archive" / "1_9_FRAME_9_RGB.bmp").write_bytes(b"not an image")
    viper = [f"{p:03d} {' '.join(BASE)} personalFemale" for p in range(6)]
    write_subset(root, "VIPeR", viper, [f"{p:03d}_{view}.bmp" for p in range(6) for view in ("45_1", "90_2")])
    write_subset(root, "MIT", [f"{p:05d} {' '.join(BASE)}" for p in range(1, 4)],
                 [f"{p:05d}_male_back.jpg" for p in range(1, 4)])  # fmt: skip
    write_subset(root, "CUHK", [f"{p:04d}.png {' '.join(BASE)}" for p in range(1, 4)],
                 [f"{p:04d}.png" for p in range(1, 4)])  # fmt: skip
    return root


@pytest.fixture(scope="module")
def peta_root(tmp_path_factory) -> Path:
    root = write_peta(tmp_path_factory.mktemp("peta") / "PETA dataset")
    assert main(["prepare", "--dataset", "peta", "--root", str(root), "--workers", "1"]) == 1
    return root


def test_factors_of_a_label_line():
    names = ["personalFemale", "personalLess45", "hairBald", "hairShort", "hairGrey", "upperBodyBlack",
             "upperBodyWhite", "upperBodyThinStripes", "lowerBodyShortSkirt", "footwearStocking",
             "carryingNothing", "carryingFolder", "accessoryMuffler"]  # fmt: skip
    factors = factors_of(names)
    assert factors["identity"] == {"gender": "female", "age": "31-45", "hair": "bald", "hair_colour": "grey"}
    clothing = factors["clothing"]
    assert clothing["upper_colour"] == ["black", "white"]  # two colours: a sorted list
    assert (clothing["upper_pattern"], clothing["lower"], clothing["stockings"]) == (
        "stripes",
        "short skirt",
        "yes",
    )
    assert clothing["carrying"] == "folder"  # "nothing" beside a thing is the thing
    assert (clothing["accessory"], clothing["lower_pattern"], clothing["neckline"]) == (
        "scarf",
        "plain",
        "other",
    )
    assert "footwear_colour" not in clothing and "upper" not in clothing  # not labelled: no value
    assert factors_of(["hairYellow"])["identity"]["hair_colour"] == "blond"


def test_prepare_names_what_differs_from_the_published_peta(peta_root, capsys):
    assert main(["prepare", "--dataset", "peta", "--root", str(peta_root), "--workers", "1"]) == 1
    out = capsys.readouterr().out
    row = re.search(r"^3DPeS +(.*)$", out, re.M).group(1).split()
    # images, published, labels, no image, no label, unreadable, unknown, malformed
    assert row == ["44", "1,012", "22", "1", "1", "1", "1", "1"]
    labels = peta_root / "3DPeS" / "archive" / "Label.txt"
    assert f"{labels} line 21: {UNKNOWN_NAME}" in out
    assert f"{labels} line 23: person 23 has no attribute names" in out
    assert "3DPeS: person 22" in out  # labelled, no image
    assert "24_1_FRAME_1_RGB.bmp" in out and "1_9_FRAME_9_RGB.bmp" in out
    assert "differs from the published PETA (19,000 images in ten subsets)" in out
    manifest = json.loads((peta_root / MANIFEST).read_text())
    assert manifest["images"]["3DPeS"] == 44 and not manifest["as_published"]


def test_prepare_refuses_a_folder_without_peta(tmp_path, capsys):
    assert main(["prepare", "--dataset", "peta", "--root", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["prepare", "--dataset", "peta", "--root", str(tmp_path)]) == 2
    assert "holds none of PETA's subsets" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="run `disreid prepare --dataset peta"):
        read_peta(tmp_path, "train")


def test_splits_hold_persons_apart(peta_root):
    splits = {
        split: read_peta(peta_root, split) for split in ("train", "val", "test", "viper", "unidentified")
    }
    persons = {split: {r.person_id for r in records} for split, records in splits.items()}
    assert [len(persons[s]) for s in ("train", "val", "test", "viper", "unidentified")] == [17, 2, 2, 6, 6]
    assert sum(map(len, persons.values())) == len(set().union(*persons.values()))  # no person in two splits
    assert {r.path.parent.parent.name for r in splits["viper"]} == {"VIPeR"}
    assert len(splits["unidentified"]) == 6  # MIT's and CUHK's images, a person each
    paths = {r.path.name for records in splits.values() for r in records}
    assert "1_9_FRAME_9_RGB.bmp" not in paths and "24_1_FRAME_1_RGB.bmp" not in paths
    assert all(r.outfit_id == r.person_id and len(r.captions) == 3 for r in splits["train"])
    assert (read_peta(peta_root, "test")[0].path).is_file()


def test_captions_reproduce_from_their_seed_and_leave_the_split(peta_root):
    scans = scan(peta_root, workers=1, progress=False)
    first, again, other = build_records(scans, 0), build_records(scans, 0), build_records(scans, 1)
    assert first == again
    assert [r["captions"] for r in first] != [r["captions"] for r in other]
    assert [(r["id"], r["split"]) for r in first] == [(r["id"], r["split"]) for r in other]


# Words that state a value, for the check that each caption's words and `stated` agree.
def value_words() -> dict[tuple[str, str], set[str]]:
    table: dict[tuple[str, str], set[str]] = {}

    def add(factor: str, value: str, *phrases: str) -> None:
        # The longest stretch of words between placeholders: "in {his} twenties" is said by "twenties".
        fragments = (max(re.split(r"\{\w+\}", phrase), key=len).strip() for phrase in phrases)
        table.setdefault((factor, value), set()).update(fragments)

    for gender, (he, his) in (("male", ("he", "his")), ("female", ("she", "her"))):
        add("gender", gender, he, his)
    for (gender, age), nouns in words.NOUNS.items():
        if gender:
            add("gender", gender, *nouns)
        if age:
            add("age", age, *nouns)
    for age, phrases in [*words.AGE_ADJECTIVES.items(), *words.AGE_PHRASES.items()]:
        add("age", age, *phrases)
    for length in ("long", "short"):
        add("hair", length, *words.HAIR_PHRASES[length], f"hair that is {length}", f"{length}-haired")
    add("hair", "bald", *words.BALD_PHRASES)
    nouns_of = {"upper": words.UPPER_NOUNS, "lower": words.LOWER_NOUNS, "footwear": words.FOOTWEAR_NOUNS,
                "accessory": words.ACCESSORY_NOUNS}  # fmt: skip
    for factor, table_ in nouns_of.items():
        for value, nouns in table_.items():
            add(factor, value, *nouns)
    for sleeves, phrases in words.SLEEVE_WORDS.items():
        add("sleeves", sleeves, *phrases, words.SLEEVE_SUFFIXES[sleeves])
    add("sleeves", "none", *words.SLEEVELESS_NOUNS)
    for pattern, phrases in words.PATTERN_WORDS.items():
        for part in ("upper", "lower"):
            add(f"{part}_pattern", pattern, *phrases, *words.PATTERN_SUFFIXES[pattern])
    add("neckline", "v-neck", "v-neck")
    add("stockings", "yes", *words.STOCKING_WORDS)
    for thing, (nouns, _, _) in words.CARRIED.items():
        add("carrying", thing, *nouns)
    add("carrying", "nothing", *words.EMPTY_HANDED)
    for style, phrases in words.STYLE_PHRASES.items():
        add("upper_style", style, *phrases)
        add("lower_style", style, *phrases)
    colours = {*words.HAIR_COLOUR_WORDS, *words.COLOUR_WORDS, "orange", "pink", "yellow"}
    for colour in colours:
        phrases = (*words.HAIR_COLOUR_WORDS.get(colour, ()), *words.COLOUR_WORDS.get(colour, (colour,)))
        for factor in ("hair_colour", "upper_colour", "lower_colour", "footwear_colour"):
            add(factor, colour, *phrases, f"dyed {colour}")
    return table


UNMISTAKABLE = [("carrying", "backpack", "backpack"), ("hair", "bald", "bald"), ("lower", "jeans", "jeans"),
                ("accessory", "sunglasses", "sunglasses"), ("footwear", "boots", "boots"),
                ("upper", "t-shirt", "t-shirt")]  # fmt: skip


def test_captions_state_only_labelled_values_in_words_that_say_them():
    """Every attribute name PETA has, in random label sets: each value a caption part states is one the
    labels give, and the part's words say it; the words of a few unmistakable values are never said
    without being stated."""
    table = value_words()
    rng = np.random.default_rng(0)
    names = sorted(KNOWN)
    said = set()
    for _ in range(2000):
        labels = [names[i] for i in rng.choice(len(names), size=int(rng.integers(3, 25)), replace=False)]
        factors = factors_of(labels)
        caption = describe(rng, factors)
        for kind, part, stated in (("identity", caption.identity, caption.identity_stated),
                                   ("clothing", caption.clothing, caption.clothing_stated)):  # fmt: skip
            text = part.lower()
            for factor, value in stated.items():
                given = factors["identity" if factor == "gender" else kind].get(factor)
                for one in [value] if isinstance(value, str) else value:
                    assert one in ([given] if isinstance(given, str) else given), (factor, one, labels)
                    assert any(word in text for word in table[factor, one]), (factor, one, part)
                    said.add((factor, one))
            for factor, value, word in UNMISTAKABLE:
                if word in text:
                    assert value in np.atleast_1d(stated.get(factor, [])), (word, part)
    labelled = {(factor, value) for _, factor, value in BINARY.values()} - {(f, v) for f, v in ABSENT.items()}
    # Every labelled value is said, but three that have no words of their own: PETA's "other" top, its
    # plain "shoes" (said "shoes", which any footwear is) and "nothing" worn on the head or face.
    assert labelled - said == {("upper", "other"), ("footwear", "shoes"), ("accessory", "nothing")}


def test_training_and_evaluating_on_peta(peta_root, tmp_path, capsys):
    run = tmp_path / "run"
    sets = [arg for value in [f"data.root={peta_root}", *TINY] for arg in ("--set", value)]
    assert main(["train", "--config", "peta", "--out", str(run), "--no-report", *sets]) == 0
    rows = (run / "metrics.csv").read_text().splitlines()
    assert len(rows) > 2
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run), "--split", "viper", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "captions' limit" in out and "clothes_changing" not in out
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["clothes_changing"] is None and results["captions_limit"]["clothes_changing"] is None
    assert results["captions_limit"]["standard"]["full"]["R1"] > 0

    # The same recipe started from the first run's model: every tensor but the classifier carried over.
    again = [*sets, "--set", f"train.init_from={run}", "--set", "train.epochs=1"]
    assert main(["train", "--config", "peta", "--out", str(tmp_path / "again"), "--no-report", *again]) == 0
    started = re.search(r"started from (.*): (\d+) of (\d+) tensors", capsys.readouterr().out)
    assert started.group(1) == str(run / "best" / "model") and started.group(2) == started.group(3)
