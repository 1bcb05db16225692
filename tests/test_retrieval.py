"""Gallery search: indexing a folder, searching it by description, the contact sheet and the web demo."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import tracemalloc
from math import comb
from pathlib import Path

import faiss
import httpx
import numpy as np
import pytest
import torch
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from conftest import CAPTIONS, SMALL_VIT, small_config
from disreid.cli import main
from disreid.cli import search as cli_search
from disreid.data import CLIP_MEAN, CLIP_STD, ImageRecord, build_transforms, load_image, read_cuhk_pedes
from disreid.data.synth import ANNOTATIONS, generate_synthpedes
from disreid.losses import AdvancedLoss
from disreid.model import DisReID, build_model
from disreid.model.tokenizer import build_word_tokenizer
from disreid.retrieval import (
    MAX_QUERY_CHARS,
    MODES,
    GalleryIndex,
    IndexSpec,
    SearchResult,
    UpdateReport,
    find_images,
    query_text,
    search,
    unknown_words,
)
from disreid.text.spelling import normalise

REAL_IMAGES = Path(__file__).parents[2] / "shared" / "realdata" / "images"
CHROMIUM = Path("/usr/bin/chromium")
PERSONS, SPLIT, IMAGES_PER_PERSON, STEPS = 240, (0.75, 0.05, 0.2), 4, 600


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Models this small run as fast on one thread, and many times faster when the cores are busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory) -> list[ImageRecord]:
    """A SynthPedes set of 240 persons in 2 outfits, 2 images each, at 64×32: 180 persons to train on
    and 48 test persons that training never sees."""
    root = tmp_path_factory.mktemp("synth")
    generate_synthpedes(
        root,
        PERSONS,
        outfits=2,
        images_per_outfit=2,
        height=64,
        width=32,
        split_fractions=SPLIT,
        workers=1,
        progress=False,
    )
    return read_cuhk_pedes(root / ANNOTATIONS)


@pytest.fixture(scope="module")
def gallery(synth_set, tmp_path_factory) -> Path:
    """The folder a practitioner indexes: the 192 images of the test persons, none seen in training."""
    folder = tmp_path_factory.mktemp("gallery")
    for record in synth_set:
        if record.split == "test":
            shutil.copy(record.path, folder / record.path.name)
    return folder


@pytest.fixture(scope="module")
def model_dir(synth_set, tmp_path_factory) -> Path:
    """A tiny model (with a conv stem) trained on the training persons for half a minute: enough for a
    caption of an unseen person to find them far more often than chance, which only happens if indexing
    and search embed images and text exactly as training did (same normalisation, same rows for the
    same paths)."""
    records = [record for record in synth_set if record.split == "train"]
    torch.manual_seed(0)
    stem = {**SMALL_VIT, "conv_stem": [16, 32], "patch_size": 2}
    config = small_config(num_classes=PERSONS, image_size=(64, 32), image_encoder=stem)
    model = build_model(config, [text for record in records for text in record.captions])
    train(model, records)
    directory = tmp_path_factory.mktemp("model")
    model.eval().save_pretrained(directory)
    return directory


def train(model: DisReID, records: list[ImageRecord]) -> None:
    """A plain loop of AdvancedLoss and AdamW over random batches of the (preloaded) images."""
    transform = build_transforms(model.config.image_size, train=False, mean=CLIP_MEAN, std=CLIP_STD)
    pixels = torch.stack([transform(load_image(record.path)) for record in records])
    classes = {person: label for label, person in enumerate(sorted({record.person_id for record in records}))}
    labels = torch.tensor([classes[record.person_id] for record in records])
    outfits = torch.tensor([record.outfit_id for record in records])
    loss, optimizer = AdvancedLoss(), torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(STEPS):
        batch = torch.randperm(len(records), generator=generator)[:32].tolist()
        pick = [records[row] for row in batch]
        caption = torch.randint(2, (len(batch),), generator=generator).tolist()
        output = model(
            pixels[batch],
            [record.captions[c] for record, c in zip(pick, caption, strict=True)],
            [record.identity_captions[c] for record, c in zip(pick, caption, strict=True)],
            [record.clothing_captions[c] for record, c in zip(pick, caption, strict=True)],
        )
        optimizer.zero_grad()
        loss(output, labels[batch], outfit_ids=outfits[batch])["total"].backward()
        optimizer.step()


@pytest.fixture(scope="module")
def index_dir(gallery, model_dir, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("index") / "index"
    assert disreid("index", "--model", model_dir, "--images", gallery, "--out", directory) == 0
    return directory


@pytest.fixture(scope="module")
def index(index_dir) -> GalleryIndex:
    return GalleryIndex.load(index_dir)


def disreid(*args: object) -> int:
    """The command line, as `disreid ARGS...`."""
    return main([str(arg) for arg in args])


def beside(folder: Path) -> list[str]:
    """What a folder holds, but for the lock files of the indexes in it (`.NAME.lock`, kept)."""
    return sorted(path.name for path in folder.iterdir() if not path.name.endswith(".lock"))


def copy_images(gallery: Path, target: Path, count: int) -> list[str]:
    paths = find_images(gallery)[0][:count]
    for path in paths:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(gallery / path, target / path)
    return paths


# ------------------------------------------------------------------------------------------- search
def test_a_caption_of_an_unseen_person_finds_them_more_often_than_chance(synth_set, index):
    """Only what the model learnt of words and looks carries over to persons it never saw. The identity
    mode is left out: half a minute of training does not learn identity cues well enough to beat chance
    on unseen persons (the quickstart's model does: README, "Where the figures stand")."""
    person = {record.path.name: record.person_id for record in synth_set if record.split == "test"}
    assert sorted(person) == sorted(index.paths)
    chance = 1 - comb(len(person) - IMAGES_PER_PERSON, 5) / comb(len(person), 5)  # about 0.1
    for mode in ("full", "clothing"):
        found = [
            any(
                person[hit.path] == record.person_id
                for hit in search(index, record.captions[0], mode, 5).hits
            )
            for record in synth_set
            if record.split == "test"
        ]
        assert np.mean(found) > 3 * chance, mode


def test_identity_and_clothing_modes_search_their_part_of_the_query():
    query = "A tall man with short black hair wears a green shirt and grey trousers."
    identity, clothing = query_text(query, "identity"), query_text(query, "clothing")
    assert "hair" in identity and "shirt" not in identity
    assert "shirt" in clothing and "hair" not in clothing
    assert query_text(query, "full") == query
    assert query_text("a red coat", "identity") == "a red coat"  # nothing of the identity kind: all of it
    assert cli_search.MODES == MODES  # written out there to keep `disreid --help` fast


@pytest.mark.parametrize("query", ["", "   ", "a" * (MAX_QUERY_CHARS + 1)])
def test_empty_and_overlong_queries_are_refused_clearly(index_dir, query, capsys):
    assert disreid("search", "--index", index_dir, query) == 2
    error = capsys.readouterr().err
    assert "empty" in error or f"{MAX_QUERY_CHARS} at most" in error


def test_search_json(index_dir, index, capsys):
    query = "a woman in a red coat"
    assert disreid("search", "--index", index_dir, query, "--mode", "clothing", "-k", 3, "--json") == 0
    output = json.loads(capsys.readouterr().out)
    assert set(output) == {"query", "mode", "text", "unknown_words", "results"}
    assert output["unknown_words"] == []
    assert output["query"] == query and output["mode"] == "clothing"
    assert len(output["results"]) == 3 and all(set(hit) == {"path", "score"} for hit in output["results"])
    scores = [hit["score"] for hit in output["results"]]
    assert scores == sorted(scores, reverse=True)
    assert all(
        Path(hit["path"]).is_file() and Path(hit["path"]).is_relative_to(index.root)
        for hit in output["results"]
    )


# Words no SynthPedes caption uses: a word-level vocabulary reads them as [UNK].
UNKNOWN_QUERY = "a man with a crimson parka 🧥 红色外套"


def test_unknown_words_are_named_and_a_query_of_none_known_is_refused():
    tokenizer = build_word_tokenizer(CAPTIONS)
    assert unknown_words(tokenizer, UNKNOWN_QUERY) == ["crimson", "parka", "🧥", "红色外套"]
    assert unknown_words(tokenizer, "a man, a man with a red jacket") == []
    for query, unread in [
        ("红色外套", " (红色外套 unknown to it)"),
        ("?!", " (?! unknown to it)"),
        (".", ""),
    ]:
        with pytest.raises(ValueError) as error:
            unknown_words(tokenizer, query)
        assert str(error.value) == (
            f"the model knows no word of the query{unread}: describe the person in the words of its training "
            "captions (English)"
        )


def test_words_written_another_way_are_read_as_the_training_captions_wrote_them():
    tokenizer = build_word_tokenizer(["A woman in a grey t-shirt with a backpack and long-sleeved gloves."])
    query = "A WOMAN in a Gray Tee Shirt, a back pack, long sleeved gloves and purple socks"
    assert tokenizer.tokenize(query) == tokenizer.tokenize(
        "a woman in a grey t-shirt, a backpack, long-sleeved gloves and purple socks"
    )
    assert unknown_words(tokenizer, query) == [",", "purple", "socks"]  # named as written
    for text in ("A Gray Tee Shirt, long sleeved, back-pack", "t shirt, Blonde, flip flops, STRIPPED"):
        assert normalise(normalise(text)) == normalise(text)  # respelled text is left as it is
        # Python's respelling and the tokenizer's (the Rust regex dialect) agree
        assert tokenizer.backend_tokenizer.normalizer.normalize_str(text) == normalise(text).lower()
    model = build_model(small_config(), ["A woman in a grey t-shirt and long-sleeved gloves."])
    assert torch.equal(  # the model reads both spellings alike
        model.tokenize(["a Gray Tee Shirt, long sleeved"])["input_ids"],
        model.tokenize(["a grey t-shirt, long-sleeved"])["input_ids"],
    )
    assert normalise("Tshirts, T shirt, flip flops, Blonde, colored, Gray") == (
        "t-shirts, t-shirt, flip-flops, blond, coloured, grey"
    )
    assert unknown_words(tokenizer, "a Gray COLORED Tee Shirt") == ["COLORED"]
    assert (
        normalise("a stripped shirt, kakhi pants and sandles") == "a striped shirt, khaki pants and sandals"
    )


def test_a_byte_level_tokenizer_knows_every_word():
    """CLIP's tokenizer splits any text into byte pieces it knows: nothing to name, nothing to refuse."""
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    bpe.train_from_iterator(
        CAPTIONS, trainers.BpeTrainer(initial_alphabet=alphabet, special_tokens=["<unk>"])
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>")
    assert unknown_words(tokenizer, UNKNOWN_QUERY) == []
    assert unknown_words(tokenizer, "红色外套") == []


def test_search_names_unknown_words_in_text_and_json(index_dir, capsys):
    assert disreid("search", "--index", index_dir, UNKNOWN_QUERY, "-k", 2) == 0
    printed = capsys.readouterr()
    assert printed.err == "not known to the model, left out: crimson, parka, 🧥, 红色外套\n"
    assert len(printed.out.splitlines()) == 2
    assert disreid("search", "--index", index_dir, UNKNOWN_QUERY, "-k", 2, "--json") == 0
    assert json.loads(capsys.readouterr().out)["unknown_words"] == ["crimson", "parka", "🧥", "红色外套"]
    assert disreid("search", "--index", index_dir, "红色外套 🧥") == 2
    assert "the model knows no word of the query (红色外套, 🧥 unknown to it)" in capsys.readouterr().err


def test_demo_note_names_the_part_searched_and_the_unknown_words():
    from disreid.demo.app import search_note

    result = SearchResult("a man in a crimson parka", "identity", "a man", [], ["crimson", "parka"])
    assert (
        search_note(result)
        == "Searched the identity part: “a man” · Not known to the model, left out: crimson, parka"
    )
    assert search_note(SearchResult("a man", "full", "a man", [])) == ""


def test_contact_sheet_is_a_png(index_dir, tmp_path, capsys):
    sheet = tmp_path / "sheets" / "top.png"
    assert disreid("search", "--index", index_dir, "a man with a backpack", "-k", 7, "--sheet", sheet) == 0
    assert len(capsys.readouterr().out.splitlines()) == 7
    with Image.open(sheet) as image:
        assert image.format == "PNG" and image.width >= 5 * 96
        image.verify()


def test_ivf_index_finds_what_exact_search_finds(index, tmp_path):
    ivf = GalleryIndex.build(index.model, index.root, tmp_path / "ivf", nlist=4, nprobe=4, progress=False)
    query = index.model.encode_text(["a woman in a red coat"])[0].detach()
    assert [hit.path for hit in ivf.search(query, k=5)] == [hit.path for hit in index.search(query, k=5)]
    assert (ivf.spec.type, ivf.spec.nlist, ivf.spec.nprobe, ivf.spec.chosen_by) == ("ivf", 4, 4, "hand")
    assert faiss.extract_index_ivf(ivf.indexes["full"]).nprobe == 4
    assert ivf.update(progress=False) == UpdateReport([], [], {})
    np.testing.assert_array_equal(ivf.vectors("clothing"), index.vectors("clothing"))
    with pytest.raises(ValueError, match="at least 1000 images"):
        GalleryIndex.build(index.model, index.root, tmp_path / "big", nlist=1000, progress=False)


# ----------------------------------------------------------------------------------------- indexing
@pytest.mark.skipif(not REAL_IMAGES.is_dir(), reason=f"no real crops at {REAL_IMAGES}")
def test_indexes_real_crops(model_dir, tmp_path):
    out = tmp_path / "index"
    assert disreid("index", "--model", model_dir, "--images", REAL_IMAGES, "--out", out) == 0
    index = GalleryIndex.load(out)
    assert len(index.paths) == len(list(REAL_IMAGES.glob("*.png"))) and not index.skipped
    hits = search(index, "a man in a dark jacket and blue jeans with a black bag", "identity", 20).hits
    assert sorted(hit.path for hit in hits) == sorted(index.paths)


def test_update_embeds_only_new_files_and_drops_deleted_ones(
    gallery, model_dir, tmp_path, monkeypatch, capsys
):
    images, out = tmp_path / "images", tmp_path / "index"
    first = copy_images(gallery, images, 10)
    assert disreid("index", "--model", model_dir, "--images", images, "--out", out) == 0
    before = GalleryIndex.load(out)
    (images / first[0]).unlink()
    new = sorted(find_images(gallery)[0][10:13])
    for path in new:
        shutil.copy(gallery / path, images / Path(path).with_suffix(".PNG").name)
    embedded = []
    encode_image = DisReID.encode_image

    def counting_encode_image(self, pixels):
        embedded.append(len(pixels))
        return encode_image(self, pixels)

    monkeypatch.setattr(DisReID, "encode_image", counting_encode_image)
    assert disreid("index", "--update", "--out", out) == 0
    assert "added 3 images, removed 1" in capsys.readouterr().out
    after = GalleryIndex.load(out)
    assert sum(embedded) == 3
    assert list(after.paths) == first[1:] + sorted(Path(path).with_suffix(".PNG").name for path in new)
    np.testing.assert_array_equal(after.vectors("identity")[:9], before.vectors("identity")[1:])


def test_unreadable_files_are_skipped_and_listed(gallery, model_dir, tmp_path, capsys):
    images, out = tmp_path / "images", tmp_path / "index"
    copy_images(gallery, images, 3)
    good = find_images(images)[0][0]
    (images / "truncated.png").write_bytes((images / good).read_bytes()[:200])
    (images / "notes.jpg").write_text("this is text, not a JPEG")
    (images / "notes.txt").write_text("not an image extension: never looked at")
    assert disreid("index", "--model", model_dir, "--images", images, "--out", out) == 0
    printed = capsys.readouterr().out
    assert "skipped 2" in printed and "truncated.png" in printed and "notes.jpg" in printed
    index = GalleryIndex.load(out)
    assert sorted(index.skipped) == ["notes.jpg", "truncated.png"] and len(index.paths) == 3
    assert sorted(json.loads((out / "meta.json").read_text())["skipped"]) == ["notes.jpg", "truncated.png"]


def test_an_interrupted_build_leaves_the_old_index_intact(
    gallery, model_dir, index_dir, tmp_path, monkeypatch
):
    images, out = tmp_path / "images", tmp_path / "index"
    copy_images(gallery, images, 3)
    shutil.copytree(index_dir, out)
    command = ("index", "--model", model_dir, "--images", images, "--out", out)

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(DisReID, "encode_image", interrupt)  # while embedding
    assert disreid(*command) == 130
    monkeypatch.undo()
    monkeypatch.setattr(faiss, "write_index", interrupt)  # while writing the new index
    assert disreid(*command) == 130
    assert list(GalleryIndex.load(out).paths) == list(GalleryIndex.load(index_dir).paths)
    assert beside(tmp_path) == [".index.embedding", "images", "index"]  # no half-written index
    monkeypatch.undo()
    monkeypatch.setattr(DisReID, "encode_image", interrupt)
    assert disreid(*command) == 0  # run again: every image was embedded already, none is again
    assert len(GalleryIndex.load(out).paths) == 3 and beside(tmp_path) == ["images", "index"]


def test_missing_index_or_model_fails_clearly(gallery, tmp_path, capsys):
    assert disreid("search", "--index", tmp_path, "a man") == 2
    assert "not a disreid index" in capsys.readouterr().err
    assert disreid("index", "--model", tmp_path, "--images", gallery, "--out", tmp_path / "i") == 2
    assert "neither a run folder" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------- demo
def test_only_indexed_images_resolve(index, tmp_path):
    assert index.resolve(index.paths[0]) == (index.root / index.paths[0]).resolve()
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"")
    for path in ["../secret.png", str(outside), "/etc/passwd", ANNOTATIONS, "imgs/../" + index.paths[0]]:
        with pytest.raises(PermissionError):
            index.resolve(path)


def test_a_link_out_of_the_images_folder_is_refused(gallery, model_dir, tmp_path):
    images = tmp_path / "images"
    copy_images(gallery, images, 2)
    secret = tmp_path / "secret.png"
    shutil.copy(gallery / find_images(gallery)[0][5], secret)
    (images / "link.png").symlink_to(secret)
    index = GalleryIndex.build(DisReID.from_pretrained(model_dir), images, tmp_path / "index", progress=False)
    assert "link.png" in index.paths
    with pytest.raises(PermissionError, match="outside"):
        index.resolve("link.png")


@pytest.fixture(scope="module")
def demo(index):
    from disreid.demo import launch

    server = launch(index, port=None, block=False)
    yield server
    server.close()


def test_demo_opens_no_folder_to_requests(demo, index, tmp_path):
    def status(path: Path) -> int:
        return httpx.get(f"{demo.local_url}gradio_api/file={path}").status_code

    secret = tmp_path / "secret.png"
    shutil.copy(index.root / index.paths[0], secret)
    assert status(index.root / index.paths[0]) == 403  # an indexed image: only as a search result
    assert status(secret) == 403
    assert status(index.root / ".." / secret.name) == 403
    assert status(Path(__file__)) == 403


@pytest.mark.browser
def test_demo_in_a_browser(demo):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    args += ["--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page()
        page.goto(demo.local_url)
        page.get_by_label("Description").fill("a woman with long black hair in a red coat")
        page.get_by_text("identity", exact=True).click()
        page.locator("#search").click()
        images = page.locator("#results img")
        images.first.wait_for(timeout=30_000)
        assert images.count() == 12
        page.wait_for_function(
            "() => [...document.querySelectorAll('#results img')].every(i => i.naturalWidth)"
        )
        assert page.locator("#results").get_by_text("·").count() >= 1  # "score · path" captions
        browser.close()


# ---------------------------------------------------------------------------------- faults and abuse
def test_k_is_capped_at_the_size_of_the_index(index_dir, index, capsys):
    query = index.model.encode_text(["a man in a red coat"])[0]
    tracemalloc.start()
    hits = index.search(query, k=10**7)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(hits) == len(index.paths) and peak < 10 * 2**20, peak  # not 10**7 rows of scores and ids
    assert disreid("search", "--index", index_dir, "a man", "-k", 10**9, "--json") == 0
    assert len(json.loads(capsys.readouterr().out)["results"]) == len(index.paths)


@pytest.mark.parametrize("damaged", ["full.faiss", "meta.json", "paths.sqlite", "model/model.safetensors"])
def test_a_damaged_index_file_is_named_in_one_line(index_dir, tmp_path, capsys, damaged):
    out = Path(shutil.copytree(index_dir, tmp_path / "index"))
    file = out / damaged
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    assert disreid("search", "--index", out, "a man") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"disreid search: error: {file} is damaged") and err.count("\n") == 1, err


def test_search_and_update_after_a_kill_between_the_index_renames(index_dir, tmp_path, capsys):
    out = tmp_path / "index"
    shutil.copytree(index_dir, tmp_path / ".index.old")  # what a kill between the two renames leaves
    assert disreid("search", "--index", out, "a man", "-k", 3) == 0
    assert disreid("index", "--update", "--out", out) == 0
    assert beside(tmp_path) == ["index"]
    assert list(GalleryIndex.load(out).paths) == list(GalleryIndex.load(index_dir).paths)


def test_index_lists_links_and_folders_it_cannot_follow(gallery, model_dir, tmp_path, capsys, monkeypatch):
    images, out = tmp_path / "images", tmp_path / "index"
    copy_images(gallery, images, 2)
    (images / "loop").symlink_to(images, target_is_directory=True)
    (images / "self.png").symlink_to(images / "self.png")
    (images / "gone.png").symlink_to(tmp_path / "deleted.png")
    copy_images(gallery, images / "locked", 1)
    scandir = os.scandir

    def unreadable(path="."):
        if not isinstance(path, int) and Path(path).name == "locked":  # shutil.rmtree passes descriptors
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", unreadable)
    assert disreid("index", "--model", model_dir, "--images", images, "--out", out) == 0
    printed = capsys.readouterr().out
    skipped = GalleryIndex.load(out).skipped
    assert {"loop": "symlink loop", "self.png": "symlink loop", "locked": "Permission denied"}.items() <= (
        skipped.items()
    )
    assert skipped["gone.png"].startswith("dangling link")
    assert all(f"  {name}: " in printed for name in skipped)
    assert len(GalleryIndex.load(out).paths) == 2


@pytest.fixture(scope="module")
def odd_folder(gallery, model_dir, tmp_path_factory) -> GalleryIndex:
    """Three indexed images beside files that are not: notes, a broken image, dot files."""
    images = tmp_path_factory.mktemp("odd")
    copy_images(gallery, images, 3)
    (images / "notes.txt").write_text("not an image")
    (images / "broken.png").write_bytes(b"\x89PNG broken")
    (images / ".env").write_text("SECRET=1")
    (images / ".hidden").mkdir()
    (images / ".hidden" / "secret.txt").write_text("secret")
    out = tmp_path_factory.mktemp("odd-index") / "index"
    index = GalleryIndex.build(DisReID.from_pretrained(model_dir), images, out, progress=False)
    assert sorted(index.skipped) == ["broken.png"]
    return index


@pytest.fixture(scope="module")
def odd_demo(odd_folder):
    from disreid.demo import launch

    server = launch(odd_folder, port=None, block=False)
    yield server
    server.close()


def test_demo_serves_the_indexed_images_and_nothing_else(odd_demo, odd_folder):
    from gradio_client import Client

    client = Client(odd_demo.local_url, download_files=False, verbose=False)
    gallery, _ = client.predict("a man in a red coat", "full", 3, api_name="/run_search")
    urls = [item["image"]["url"] for item in gallery]
    assert len(urls) == 3 and all(httpx.get(url).status_code == 200 for url in urls)
    root = odd_folder.root
    others = ["notes.txt", "broken.png", ".env", ".hidden/secret.txt", "../etc/passwd"]
    for path in [*others, odd_folder.paths[0]]:  # an indexed image too: only as a search result
        response = httpx.get(f"{odd_demo.local_url}gradio_api/file={root / path}")
        assert response.status_code == 403, path


def test_demo_takes_no_uploads(odd_demo):
    files = {"files": ("big.png", b"\0" * 2**20, "image/png")}
    assert httpx.post(f"{odd_demo.local_url}gradio_api/upload", files=files).status_code >= 400


def test_demo_shows_the_query_as_text_and_rejects_quietly(odd_demo, capfd):
    from gradio_client import Client

    client = Client(odd_demo.local_url, download_files=False, verbose=False)
    query = 'a man with short hair <img src="x" onerror="alert(1)"> in a red coat'
    _, note = client.predict(query, "identity", 3, api_name="/run_search")
    assert "<img" in note["value"]  # as typed, in a box that shows text
    components = {c.get("props", {}).get("elem_id"): c["type"] for c in odd_demo.config["components"]}
    assert components["note"] == "textbox"
    capfd.readouterr()
    with pytest.raises(Exception, match="the query is empty"):
        client.predict("   ", "full", 3, api_name="/run_search")
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(
    ("query", "mode", "count", "complaint"),
    [
        (None, "full", 3, "the description must be text"),
        ("a man", "full", None, "the number of results must be a whole number from 1 to 50"),
        ("a man", "full", 1000, "the number of results must be a whole number from 1 to 50"),
        ("a man", "full", -5, "the number of results must be a whole number from 1 to 50"),
        (
            "a man",
            "<b>all</b>",
            3,
            "mode must be one of full, identity, clothing, got '&lt;b&gt;all&lt;/b&gt;'",
        ),
        ("<b>zzzq</b>", "full", 3, "(&lt;, b, &gt;, zzzq, &lt;/ unknown to it)"),  # no word known: escaped
    ],
)
def test_demo_api_refuses_bad_values_quietly_and_as_text(odd_demo, capfd, query, mode, count, complaint):
    """Through the API anything can arrive; the popup renders HTML, so what it repeats is escaped."""
    from gradio_client import Client

    client = Client(odd_demo.local_url, download_files=False, verbose=False)
    capfd.readouterr()
    with pytest.raises(Exception) as refused:
        client.predict(query, mode, count, api_name="/run_search")
    assert complaint in str(refused.value) and "<" not in str(refused.value)
    assert "Traceback" not in capfd.readouterr().err


def test_demo_stopped_by_sigterm_removes_its_folder(index_dir, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "disreid.cli", "demo", "--index", str(index_dir), "--port", str(port)]
    page = subprocess.Popen(
        command, env={**os.environ, "TMPDIR": str(tmp_path)}, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # serving: the page answers
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        assert list(tmp_path.glob("disreid-demo-*")), (
            "the page keeps its served images in a folder of its own"
        )
        page.terminate()
        _, err = page.communicate(timeout=60)
    finally:
        page.kill()
    assert "Traceback" not in err, err
    assert not list(tmp_path.glob("disreid-demo-*"))


def test_a_second_writer_of_an_index_is_refused(index_dir, tmp_path, capsys):
    """Two `index --update` at once would each replace the other's index (issue 32)."""
    from disreid.io import exclusive

    with exclusive(index_dir):  # another process's update, as far as the lock can tell
        assert disreid("index", "--update", "--out", index_dir) == 2
    err = capsys.readouterr().err
    assert (
        err == f"disreid index: error: {index_dir} is being written by another process (it holds "
        f"{index_dir.parent / ('.' + index_dir.name + '.lock')}): try again once it is done\n"
    )
    assert disreid("index", "--update", "--out", index_dir) == 0  # released


def test_demo_on_a_busy_port_says_which_option_to_change(index_dir, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert disreid("demo", "--index", index_dir, "--port", port) == 2
    err = capsys.readouterr().err
    assert f"port {port}" in err and "--port" in err and "launch()" not in err and err.count("\n") == 1


# ------------------------------------------------------------------------------------- gallery scale
def test_the_structure_follows_the_size_of_the_gallery():
    from disreid.retrieval.structure import EXACT_UP_TO, IVF_UP_TO, choose

    assert choose(EXACT_UP_TO, 512) == IndexSpec("flat", "IDMap2,Flat")
    assert choose(EXACT_UP_TO + 1, 512).type == "ivf"
    ivf = choose(250_000, 512)  # 4 sqrt(n) = 2000 lists: the power of two nearest, a quarter visited
    assert (ivf.type, ivf.factory, ivf.nlist, ivf.nprobe, ivf.rerank) == ("ivf", "IVF2048,Flat", 2048, 512, 0)
    large = choose(IVF_UP_TO + 1, 512)  # 4000 lists: 4096, trained on 64 a list; 128 4-bit codes, OPQ
    assert (large.type, large.factory, large.nprobe, large.rerank) == (
        "ivfpq",
        "OPQ128,IVF4096_HNSW32,PQ128x4fs",
        1024,
        1000,
    )
    assert choose(10**7, 512).factory == "OPQ128,IVF4096_HNSW32,PQ128x4fs"  # MAX_NLIST lists
    small = choose(60, 32, "ivfpq", nlist=2, rerank=0)  # too few points to train OPQ's 256 centroids
    assert (small.factory, small.rerank, small.chosen_by) == ("IVF2_HNSW32,PQ32x4fs", 0, "hand")
    assert choose(60, 32, nlist=2).type == "ivf"  # lists asked for: inverted lists, however small
    with pytest.raises(ValueError, match="16 centroids a part"):
        choose(15, 32, "ivfpq", nlist=1)
    for settings, message in [
        ({"index_type": "flat", "nlist": 4}, "no lists"),
        ({"index_type": "ivf", "rerank": 10}, "nothing to re-rank"),
        ({"index_type": "hnsw"}, "must be one of"),
        ({"nlist": 100}, "at least 100 images"),
        ({"nprobe": 0}, "at least 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            choose(60, 32, **settings)


def test_ivfpq_reranked_finds_what_exact_search_finds(index, tmp_path):
    pq = GalleryIndex.build(
        index.model, index.root, tmp_path / "pq", index_type="ivfpq", nlist=2, progress=False
    )
    count, dim = len(index.paths), index.model.config.embed_dim
    assert pq.spec.type == "ivfpq" and pq.spec.rerank == 1000
    assert (tmp_path / "pq" / "identity.vectors").stat().st_size == count * dim * 2  # float16 rows
    query = index.model.encode_text(["a woman in a red coat"])[0].detach()
    exact = index.search(query, "identity", k=8)
    reranked = pq.search(query, "identity", k=8, nprobe=2, rerank=count)  # every image, exactly scored
    assert [hit.path for hit in reranked] == [hit.path for hit in exact]
    np.testing.assert_allclose([h.score for h in reranked], [h.score for h in exact], atol=2e-3)
    assert len(pq.search(query, "identity", k=8, rerank=0)) == 8  # the codes' own ranking
    np.testing.assert_allclose(pq.vectors("full"), index.vectors("full"), atol=1e-3)  # float16 kept
    with pytest.raises(ValueError, match="keeps no vectors"):
        index.search(query, rerank=10)
    with pytest.raises(ValueError, match="needs an IVF index"):
        index.search(query, nprobe=2)


def test_large_indexes_are_searched_from_disk(index, tmp_path):
    GalleryIndex.build(index.model, index.root, tmp_path / "ivf", nlist=4, progress=False)
    for mmap, lists in [(True, "OnDiskInvertedLists"), (False, "ArrayInvertedLists")]:
        loaded = GalleryIndex.load(tmp_path / "ivf", mmap=mmap)  # held: the lists belong to its indexes
        invlists = faiss.downcast_InvertedLists(faiss.extract_index_ivf(loaded.indexes["full"]).invlists)
        assert type(invlists).__name__ == lists
        assert not mmap or invlists.prefetch_nthread == 0  # no threads started by every search
        assert len(loaded.search(np.ones(index.model.config.embed_dim), k=3)) == 3


def test_update_of_an_ivfpq_index_touches_only_what_changed(gallery, index, tmp_path, monkeypatch):
    images, out = tmp_path / "images", tmp_path / "index"
    first = copy_images(gallery, images, 20)
    GalleryIndex.build(index.model, images, out, index_type="ivfpq", nlist=2, progress=False)
    before = (out / "clothing.vectors").read_bytes()
    (images / first[0]).unlink()
    new = find_images(gallery)[0][20:23]
    for path in new:
        shutil.copy(gallery / path, images / path)
    embedded = []
    encode_image = DisReID.encode_image
    monkeypatch.setattr(
        DisReID, "encode_image", lambda self, x: embedded.append(len(x)) or encode_image(self, x)
    )
    updated = GalleryIndex.load(out)
    assert updated.update(progress=False) == UpdateReport(new, [first[0]], {})
    assert sum(embedded) == 3 and list(updated.paths) == first[1:] + new
    assert (out / "clothing.vectors").read_bytes()[: len(before)] == before  # 20 rows kept, 3 appended
    assert (out / "clothing.vectors").stat().st_size == 23 * index.model.config.embed_dim * 2
    fresh = GalleryIndex.build(index.model, images, tmp_path / "fresh", progress=False)
    query = index.model.encode_text(["a man in a black jacket"])[0].detach()
    exact = {hit.path: hit.score for hit in fresh.search(query, "clothing", k=22)}
    coded = {hit.path: hit.score for hit in updated.search(query, "clothing", k=22, nprobe=2, rerank=0)}
    assert coded.keys() == exact.keys()  # faiss 1.15 garbles fast-scan codes added after a removal:
    assert max(abs(coded[path] - exact[path]) for path in exact) < 0.15  # 0.30 if added after
    assert [hit.path for hit in updated.search(query, k=22, nprobe=2, rerank=22)] == [
        hit.path for hit in fresh.search(query, k=22)
    ]


def test_two_processes_build_the_index_one_process_builds(gallery, model_dir, index, tmp_path):
    """`torchrun` with two gloo processes on the CPU, each embedding every other chunk of 50 images."""
    out = tmp_path / "two"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += ["-m", "disreid.cli", "index", "--model", model_dir, "--images", gallery, "--out", out]
    command += ["--chunk-size", "50"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [str(part) for part in command], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    two = GalleryIndex.load(out)
    assert list(two.paths) == list(index.paths)
    for mode in MODES:
        np.testing.assert_array_equal(two.vectors(mode), index.vectors(mode))
