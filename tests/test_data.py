"""Annotation reader, datasets, transforms and the P×K sampler, on small files written here."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from disreid.cli import main
from disreid.config import load_config
from disreid.data import (
    AnnotationError,
    CaptionPairs,
    CaptionQueries,
    DataConfig,
    GalleryImages,
    IdentityBatchSampler,
    ImageReadError,
    build_transforms,
    load_records,
    read_cuhk_pedes,
)
from disreid.data.synth import MANIFEST, VERSION
from disreid.data.transforms import pad_and_random_crop, random_erasing, random_horizontal_flip

CUHK_RECORD = {
    "split": "train",
    "captions": ["A man in a red coat.", "He wears a red coat and black shoes."],
    "file_path": "CUHK01/0001001.png",
    "processed_tokens": [["a", "man", "in", "a", "red", "coat"], ["he", "wears"]],
    "id": 1,
}
SYNTH_RECORD = {
    "split": "test",
    "captions": ["A tall woman with short hair wears a blue skirt."],
    "id_captions": ["A tall woman with short hair"],
    "cloth_captions": ["wears a blue skirt"],
    "file_path": "imgs/00002/00007_0.png",
    "id": 2,
    "outfit": 7,
    "factors": {"identity": {"height": "tall"}, "clothing": {"lower": "skirt"}},
    "view": "front",
}
HALVES = {"mean": (0.5,) * 3, "std": (0.5,) * 3}  # maps [0, 1] to [-1, 1]


def write_annotations(directory: Path, records: list) -> Path:
    path = directory / "annotations.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def write_images(root: Path, records: list) -> None:
    for index, record in enumerate(records):
        path = root / record["file_path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (12, 24), (10 * index, 100, 200)).save(path)


def test_reads_cuhk_pedes_and_synthpedes_records(tmp_path):
    annotations = write_annotations(tmp_path, [CUHK_RECORD, SYNTH_RECORD])
    cuhk, synth = read_cuhk_pedes(annotations)

    assert cuhk.path == tmp_path / "CUHK01/0001001.png"  # relative to the annotation file by default
    assert (cuhk.person_id, cuhk.split, cuhk.captions) == (1, "train", tuple(CUHK_RECORD["captions"]))
    # Real captions carry no parts: the caption splitter's ("" where a caption names no identity).
    assert cuhk.identity_captions == ("A man", "")
    assert cuhk.clothing_captions == ("in a red coat", "He wears a red coat and black shoes")
    assert (cuhk.outfit_id, cuhk.factors) == (None, None)
    assert synth.identity_captions == ("A tall woman with short hair",)
    assert synth.clothing_captions == ("wears a blue skirt",)
    assert (synth.outfit_id, synth.factors) == (7, SYNTH_RECORD["factors"])

    [only_test] = read_cuhk_pedes(annotations, image_root=tmp_path / "imgs", split="test")
    assert only_test.path == tmp_path / "imgs" / SYNTH_RECORD["file_path"]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"id": None}, "missing key 'id'"),
        ({"id": 0}, "positive"),
        ({"id": "3"}, "'id' should be int"),
        ({"id": True}, "'id' should be int"),
        ({"captions": []}, "'captions' is empty"),
        ({"captions": "a man"}, "'captions' should be list"),
        ({"captions": ["a man", 3]}, "strings"),
        ({"id_captions": ["one", "two"]}, "'id_captions' has 2 entries but 'captions' has 1"),
        ({"outfit": -1}, "'outfit' should be a positive"),
        ({"file_path": None}, "missing key 'file_path'"),
    ],
)
def test_malformed_record_names_file_index_and_problem(tmp_path, change, complaint):
    bad = {key: value for key, value in {**SYNTH_RECORD, **change}.items() if value is not None}
    annotations = write_annotations(tmp_path, [CUHK_RECORD, bad])
    with pytest.raises(AnnotationError, match=complaint) as error:
        read_cuhk_pedes(annotations)
    assert str(error.value).startswith(f"{annotations}: record 1: ")


def test_file_that_is_not_a_list_of_objects(tmp_path):
    with pytest.raises(AnnotationError, match="record 0: expected an object"):
        read_cuhk_pedes(write_annotations(tmp_path, [["not", "a", "record"]]))
    with pytest.raises(AnnotationError, match="expected a JSON list"):
        read_cuhk_pedes(write_annotations(tmp_path, {"records": []}))


def test_a_synthpedes_set_made_with_other_parameters_is_refused(synth_root):
    """Training on a set of another size than the config asks for would quietly change the benchmark."""
    asked = DataConfig(root=str(synth_root), synth_persons=1000, synth_split=(0.6, 0.1, 0.3))
    with pytest.raises(ValueError, match=rf"{synth_root} was made with persons 16 \(config: 1000\)"):
        load_records(asked, "train")
    assert load_records(DataConfig(root=str(synth_root), synth_persons=16), "train")


def test_a_set_drawn_by_disreid_synth_trains_with_its_config_or_the_overrides_it_is_told(tmp_path, capsys):
    config = tmp_path / "small.yaml"
    config.write_text("base: synth_tiny\ndata:\n  synth_persons: 12\n  synth_split: [0.5, 0.25, 0.25]\n")
    drawn = tmp_path / "drawn"
    assert main(["synth", "--config", str(config), "--out", str(drawn), "--workers", "1"]) == 0
    assert "(train 6, val 3, test 3)" in capsys.readouterr().out
    assert load_records(load_config(config, [f"data.root={drawn}"]).data, "train")

    # Drawn with other settings than the config's: the refusal says how to read it as it is
    with pytest.raises(ValueError, match="made with persons 12 .config: 1500., split_fractions") as refused:
        load_records(load_config("synth_tiny", [f"data.root={drawn}"]).data, "train")
    overrides = re.search(r"add ((--set \S+ ?)+);", str(refused.value)).group(1).split()[1::2]
    assert overrides == ["data.synth_persons=12", "data.synth_split=[0.5,0.25,0.25]"]
    assert load_records(load_config("synth_tiny", [f"data.root={drawn}", *overrides]).data, "train")


def test_a_synthpedes_set_of_an_older_version_is_refused(synth_root, tmp_path):
    """A set drawn by an older SynthPedes (other images, other captions) would quietly stand in for it."""
    old = tmp_path / "old"
    shutil.copytree(synth_root, old)
    manifest = json.loads((old / MANIFEST).read_text())
    (old / MANIFEST).write_text(json.dumps({**manifest, "version": VERSION - 1}))
    with pytest.raises(ValueError, match=rf"version {VERSION - 1} \(this disreid draws version {VERSION}\)"):
        load_records(DataConfig(root=str(old), synth_persons=16), "train")


def test_datasets_items(tmp_path):
    write_images(tmp_path, [CUHK_RECORD, SYNTH_RECORD])
    records = read_cuhk_pedes(write_annotations(tmp_path, [CUHK_RECORD, SYNTH_RECORD]))
    transform = build_transforms((8, 4), train=False, **HALVES)

    pairs = CaptionPairs(records, transform)
    assert len(pairs) == 3 and pairs.person_ids == [1, 1, 2]
    second, third = pairs[1], pairs[2]
    assert second["pixels"].shape == (3, 8, 4)
    # This caption names no identity: the whole caption stands in for that part.
    whole = CUHK_RECORD["captions"][1]
    assert (second["caption"], second["identity_caption"]) == (whole, whole)
    assert second["clothing_caption"] == "He wears a red coat and black shoes"
    assert (second["person_id"], second["outfit_id"], second["image_index"]) == (1, -1, 0)
    parts = (*SYNTH_RECORD["id_captions"], *SYNTH_RECORD["cloth_captions"])
    assert (third["identity_caption"], third["clothing_caption"]) == parts
    assert (third["person_id"], third["outfit_id"], third["image_index"]) == (2, 7, 1)

    queries = CaptionQueries(records)
    assert [query["caption"] for query in queries] == [*CUHK_RECORD["captions"], *SYNTH_RECORD["captions"]]
    assert "pixels" not in queries[0]

    gallery = GalleryImages(records, transform)
    assert len(gallery) == 2
    assert {key: gallery[1][key] for key in ("person_id", "outfit_id", "index")} == {
        "person_id": 2,
        "outfit_id": 7,
        "index": 1,
    }
    batch = next(iter(torch.utils.data.DataLoader(pairs, batch_size=3)))
    assert batch["pixels"].shape == (3, 3, 8, 4) and batch["outfit_id"].tolist() == [-1, -1, 7]


def test_cached_training_images_are_decoded_once(tmp_path):
    write_images(tmp_path, [CUHK_RECORD, SYNTH_RECORD])
    records = read_cuhk_pedes(write_annotations(tmp_path, [CUHK_RECORD, SYNTH_RECORD]))
    transform = build_transforms((8, 4), train=False, **HALVES)
    cached = CaptionPairs(records, transform, cache_images=True)
    first = cached[0]["pixels"]
    records[0].path.unlink()  # the first image's two captions now read it from memory
    assert torch.equal(cached[1]["pixels"], first)
    assert sorted(cached.cache) == [0]
    with pytest.raises(ImageReadError, match="0001001"):
        CaptionPairs(records, transform)[0]


def test_missing_or_corrupt_image_names_the_file(tmp_path):
    records = read_cuhk_pedes(write_annotations(tmp_path, [CUHK_RECORD, SYNTH_RECORD]))
    gallery = GalleryImages(records, build_transforms((8, 4), train=False, mean=(0,) * 3, std=(1,) * 3))
    with pytest.raises(ImageReadError, match="0001001.png"):
        gallery[0]
    corrupt = tmp_path / SYNTH_RECORD["file_path"]
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"\x89PNG not really")
    with pytest.raises(ImageReadError, match="00007_0.png"):
        gallery[1]


def test_normalisation_of_a_constant_image():
    image = Image.new("RGB", (6, 10), (51, 102, 153))  # 0.2, 0.4, 0.6 of full scale
    # (0.2 - 0.5) / 0.25 = -1.2, (0.4 - 0.5) / 0.25 = -0.4, (0.6 - 0.5) / 0.25 = 0.4;
    # bicubic resizing keeps a constant image constant.
    for size in ((10, 6), (20, 8)):
        pixels = build_transforms(size, train=False, mean=(0.5,) * 3, std=(0.25,) * 3)(image)
        assert pixels.shape == (3, *size)
        for channel, value in enumerate((-1.2, -0.4, 0.4)):
            assert torch.allclose(pixels[channel], torch.full(size, value), atol=1e-5)


def test_augmentations():
    pixels = torch.rand(3, 12, 8)
    assert torch.equal(random_horizontal_flip(pixels, p=1.0), pixels[..., torch.arange(7, -1, -1)])
    assert torch.equal(random_horizontal_flip(pixels, p=0.0), pixels)

    cropped = pad_and_random_crop(pixels, padding=2, generator=torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(pixels, (2, 2, 2, 2))
    windows = [padded[:, top : top + 12, left : left + 8] for top in range(5) for left in range(5)]
    assert any(torch.equal(cropped, window) for window in windows)

    erased = random_erasing(pixels + 1.0, p=1.0, generator=torch.Generator().manual_seed(0))
    zeros = (erased == 0).all(0)
    rows, columns = zeros.any(1).nonzero(), zeros.any(0).nonzero()
    box = (rows.max() - rows.min() + 1) * (columns.max() - columns.min() + 1)
    assert zeros.sum() == box and 0.02 * 96 - 1 <= box <= 0.4 * 96 + 8  # one rectangle (rounding allowed)
    assert torch.equal(random_erasing(pixels, p=0.0), pixels)


def test_training_transform_reproduces_from_a_seed():
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 12, 3), dtype=np.uint8))

    def augmented(seed: int) -> torch.Tensor:
        transform = build_transforms(
            (16, 8), train=True, **HALVES, generator=torch.Generator().manual_seed(seed)
        )
        return torch.stack([transform(image) for _ in range(4)])

    assert torch.equal(augmented(1), augmented(1))
    assert not torch.equal(augmented(1), augmented(2))
    plain = build_transforms((16, 8), train=True, **HALVES, flip=False, crop_padding=0, erasing_prob=0)
    assert torch.equal(plain(image), build_transforms((16, 8), train=False, **HALVES)(image))


# Persons 0..5 with 9, 5, 4, 3, 2, 1 samples, in a shuffled dataset order.
PERSON_IDS = np.random.default_rng(0).permutation(np.repeat(np.arange(6), [9, 5, 4, 3, 2, 1])).tolist()


def test_sampler_batches_hold_p_persons_with_k_samples_each():
    sampler = IdentityBatchSampler(PERSON_IDS, persons_per_batch=2, instances_per_person=2, seed=0)
    batches = list(sampler)
    # Groups of 2 per person: 4, 2, 2, 1, 1, 1 (the last one drawn with replacement); rounds of
    # 6, 3, 1, 1 persons give 3 + 1 + 0 + 0 batches of 2 persons.
    assert len(batches) == len(sampler) == 4
    for batch in batches:
        persons = Counter(PERSON_IDS[index] for index in batch)
        assert len(batch) == 4 and len(persons) == 2 and set(persons.values()) == {2}
    # No sample twice in an epoch, but for person 5's only one, drawn twice to make a group.
    seen = Counter(index for batch in batches for index in batch)
    assert all(count == 1 for index, count in seen.items() if PERSON_IDS[index] != 5)


def test_sampler_is_deterministic_per_epoch():
    def epoch_batches(epoch: int, seed: int = 0) -> list[list[int]]:
        sampler = IdentityBatchSampler(PERSON_IDS, persons_per_batch=2, instances_per_person=2, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert epoch_batches(3) == epoch_batches(3)
    assert epoch_batches(3) != epoch_batches(4)
    assert epoch_batches(3) != epoch_batches(3, seed=1)


def test_distributed_slices_are_disjoint_and_cover_each_global_batch():
    def batches(num_replicas: int, rank: int) -> list[list[int]]:
        sampler = IdentityBatchSampler(PERSON_IDS, 2, 2, seed=5, num_replicas=num_replicas, rank=rank)
        sampler.set_epoch(2)
        return list(sampler)

    global_batches, first, second = batches(1, 0), batches(2, 0), batches(2, 1)
    assert len(first) == len(second) == len(global_batches) > 0
    for whole, mine, theirs in zip(global_batches, first, second, strict=True):
        assert mine + theirs == whole
        assert not {PERSON_IDS[i] for i in mine} & {PERSON_IDS[i] for i in theirs}
    with pytest.raises(ValueError, match="num_replicas"):
        IdentityBatchSampler(PERSON_IDS, 3, 2, num_replicas=2, rank=0)
    with pytest.raises(ValueError, match="cannot fill"):
        IdentityBatchSampler(PERSON_IDS, 7, 2)
