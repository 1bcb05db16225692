"""The real benchmarks: readers of the three annotation formats, the caption-split cache, `disreid prepare`,
the CLIP configs, and training from them on small CUHK-PEDES-format sets (generated, and real crops)."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import shutil
from pathlib import Path

import pytest

from disreid.cli import main
from disreid.config import load_config
from disreid.data import (
    BENCHMARKS,
    CLIP_MEAN,
    CLIP_STD,
    AnnotationError,
    CaptionQueries,
    DataConfig,
    load_records,
    read_icfg_pedes,
    read_rstpreid,
)
from disreid.data import annotations as annotations_module
from disreid.data.caption_split import CACHE_NAME, SPLITTER_VERSION
from disreid.model import DisReID
from disreid.text import split_caption

REALDATA = Path(__file__).parents[2] / "shared" / "realdata"
IDENTITY = "A young woman with long black hair"
CLOTHING = "is wearing a red jacket, blue jeans and white shoes"
CAPTION = f"{IDENTITY} {CLOTHING}."
TINY = [  # cuhk_pedes.yaml shrunk to a tiny CLIP and a small batch
    "model.image_size=[32, 16]", "model.embed_dim=16", "model.num_heads=4", "model.self_layers=1",
    "model.cross_layers=1", "data.persons_per_batch=4", "data.instances_per_person=2", "data.num_workers=0",
    "train.epochs=2", "train.warmup_epochs=0.5", "train.log_every=1", "train.device=cpu",
]  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")


def overrides(*values: str) -> list[str]:
    return [arg for value in values for arg in ("--set", value)]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


# ------------------------------------------------------------------------------------------- readers
def test_icfg_pedes_and_rstpreid_records_with_their_caption_parts(tmp_path):
    (tmp_path / "ICFG-PEDES.json").write_text(json.dumps([
        {"id": 0, "file_path": "test/0000/0000_001.jpg", "captions": [CAPTION], "processed_tokens": [[]],
         "split": "test"},
        {"id": 7, "file_path": "train/0007/0007_002.jpg", "captions": ["The man has short hair."],
         "processed_tokens": [[]], "split": "train"},
    ]))  # fmt: skip
    rstpreid = {"id": 0, "img_path": "0000_c14_0031.jpg", "captions": [CAPTION, "a man in a blue coat"]}
    (tmp_path / "data_captions.json").write_text(json.dumps([{**rstpreid, "split": "val"}]))

    icfg_test, icfg_train = read_icfg_pedes(tmp_path / "ICFG-PEDES.json", tmp_path / "imgs")
    assert (icfg_test.person_id, icfg_test.split, icfg_test.captions) == (0, "test", (CAPTION,))
    assert icfg_test.path == tmp_path / "imgs" / "test/0000/0000_001.jpg"
    assert (icfg_test.identity_captions, icfg_test.clothing_captions) == ((IDENTITY,), (CLOTHING,))
    assert icfg_train.clothing_captions == ("",)  # names no clothing: kept empty, counted by prepare

    [rstp] = read_rstpreid(tmp_path / "data_captions.json", tmp_path / "imgs", split="val")
    assert (rstp.path, rstp.person_id) == (tmp_path / "imgs" / "0000_c14_0031.jpg", 0)
    assert rstp.identity_captions == (IDENTITY, split_caption("a man in a blue coat")[0])
    assert read_rstpreid(tmp_path / "data_captions.json", split="train") == []

    # The data set names read IRRA's layouts: annotations beside imgs/.
    (tmp_path / "imgs").mkdir()
    records = load_records(DataConfig(dataset="icfg-pedes", root=str(tmp_path)), "test")
    assert records == [icfg_test]
    assert load_records(DataConfig(dataset="rstpreid", root=str(tmp_path)), "val") == [rstp]
    with pytest.raises(FileNotFoundError, match="reid_raw.json is missing"):
        load_records(DataConfig(dataset="cuhk-pedes", root=str(tmp_path)), "test")


def test_an_empty_part_falls_back_to_the_whole_caption(tmp_path):
    (tmp_path / "data_captions.json").write_text(json.dumps([
        {"id": 3, "img_path": "a.jpg", "captions": ["The man has short hair.", CAPTION], "split": "train"},
    ]))  # fmt: skip
    no_clothing, whole = CaptionQueries(read_rstpreid(tmp_path / "data_captions.json"))
    assert no_clothing["identity_caption"] == "The man has short hair"
    assert no_clothing["clothing_caption"] == "The man has short hair."
    assert (whole["identity_caption"], whole["clothing_caption"]) == (IDENTITY, CLOTHING)


def test_every_malformed_record_is_named_by_index(tmp_path):
    good = {"id": 1, "img_path": "a.jpg", "captions": ["a man"], "split": "train"}
    bad = [good, {**good, "id": -1}, {"id": 2, "file_path": "b.jpg", "captions": ["x"], "split": "test"}]
    (tmp_path / "data_captions.json").write_text(json.dumps(bad + [{**good, "captions": []}] * 11))
    with pytest.raises(AnnotationError) as error:
        read_rstpreid(tmp_path / "data_captions.json")
    message = str(error.value).removeprefix(f"{tmp_path / 'data_captions.json'}: ")
    assert message.startswith("record 1: 'id' should be an id from 0, got -1; ")
    assert "record 2: missing key 'img_path'" in message and "record 3: 'captions' is empty" in message
    assert "and 3 more malformed records" in message  # 13 malformed: 10 named


# -------------------------------------------------------------------------------- prepare and cache
def test_prepare_checks_sizes_and_images_and_caches_the_split(cuhk_pedes_root, capsys, caplog, monkeypatch):
    root = cuhk_pedes_root
    (root / "imgs/CUHK03/0003_1.png").unlink()
    (root / "imgs/CUHK03/0005_0.png").write_bytes(b"not a png")
    assert main(["prepare", "--dataset", "cuhk-pedes", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert "train 8 16 32 DIFFERS: 11,003 / 34,054 / 68,126" in rows
    assert "test 4 8 16 DIFFERS: 1,000 / 3,074 / 6,156" in rows
    assert f"1 of 32 images are missing:\n  {root / 'imgs/CUHK03/0003_1.png'}\n" in out
    assert f"1 of 32 images are unreadable:\n  {root / 'imgs/CUHK03/0005_0.png'}: " in out
    assert "split 64 captions into identity and clothing text: 0 (0.0 %) name no identity" in out

    annotations = json.loads((root / "reid_raw.json").read_text())
    cache = json.loads((root / CACHE_NAME).read_text())
    assert (cache["annotations"], cache["captions"]) == ("reid_raw.json", 64)
    assert cache["splitter"] == SPLITTER_VERSION
    assert cache["parts"][5][1] == list(split_caption(annotations[5]["captions"][1]))

    # With a valid cache the reader splits nothing; the parts are the cached ones.
    monkeypatch.setattr(annotations_module, "split_caption", None)
    val = load_records(DataConfig(dataset="cuhk-pedes", root=str(root)), "val")
    cached = [[tuple(part) for part in parts] for parts in cache["parts"][16:24]]
    assert [list(zip(r.identity_captions, r.clothing_captions, strict=True)) for r in val] == cached
    # A changed annotation file makes the cache stale: the reader splits again, and says why.
    monkeypatch.undo()
    annotations[0]["captions"][0] = CAPTION
    (root / "reid_raw.json").write_text(json.dumps(annotations))
    with caplog.at_level(logging.WARNING):
        first = load_records(DataConfig(dataset="cuhk-pedes", root=str(root)), "train")[0]
    assert (first.identity_captions[0], first.clothing_captions[0]) == (IDENTITY, CLOTHING)
    assert "rerun `disreid prepare`" in caplog.text


def test_prepare_accepts_a_data_set_of_the_published_size(cuhk_pedes_root, capsys, monkeypatch):
    sizes = {"train": (8, 16, 32), "val": (4, 8, 16), "test": (4, 8, 16)}
    monkeypatch.setitem(BENCHMARKS, "cuhk-pedes", dataclasses.replace(BENCHMARKS["cuhk-pedes"], splits=sizes))
    assert main(["prepare", "--dataset", "cuhk-pedes", "--root", str(cuhk_pedes_root)]) == 0
    out = capsys.readouterr().out
    assert out.count("as published") == 3 and "all 32 images read" in out and "is the published" in out


def test_prepare_names_malformed_records_and_missing_files(cuhk_pedes_root, tmp_path, capsys):
    records = json.loads((cuhk_pedes_root / "reid_raw.json").read_text())
    del records[3]["file_path"]
    (cuhk_pedes_root / "reid_raw.json").write_text(json.dumps(records))
    assert main(["prepare", "--dataset", "cuhk-pedes", "--root", str(cuhk_pedes_root)]) == 2
    assert "record 3: missing key 'file_path'" in capsys.readouterr().err
    assert main(["prepare", "--dataset", "rstpreid", "--root", str(tmp_path)]) == 2
    assert "data_captions.json is missing" in capsys.readouterr().err
    assert main(["prepare", "--dataset", "market", "--root", str(tmp_path)]) == 2
    assert "unknown dataset 'market'" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- configs
@pytest.mark.parametrize(("name", "dataset"), [("cuhk_pedes", "cuhk-pedes"), ("icfg_pedes", "icfg-pedes"),
                                               ("rstpreid", "rstpreid")])  # fmt: skip
def test_benchmark_configs(name, dataset):
    config = load_config(name)
    model, data, train = config.model, config.data, config.train
    assert (model.backbone, model.checkpoint) == ("clip", "openai/clip-vit-base-patch16")
    assert (model.image_size, model.embed_dim) == ((384, 128), None)  # None: the checkpoint's joint space
    assert (model.num_heads, model.self_layers, model.cross_layers) == (8, 6, 3)
    assert (data.dataset, data.persons_per_batch * data.instances_per_person) == (dataset, 64)
    assert (data.mean, data.std) == (CLIP_MEAN, CLIP_STD) and data.erasing_prob > 0
    assert (train.epochs, train.warmup_epochs, train.lr, train.new_layer_lr_factor) == (60, 5, 1e-5, 5)
    assert train.temperature == 0.01  # 1 / CLIP's learned logit scale
    assert train.eval_every == (0 if dataset == "icfg-pedes" else 1)  # ICFG-PEDES has no val split


def test_training_from_the_cuhk_pedes_config(cuhk_pedes_root, clip_checkpoint, tmp_path):
    run = tmp_path / "run"
    sets = [f"data.root={cuhk_pedes_root}", f"model.checkpoint={clip_checkpoint}", *TINY, "train.lr=1e-3"]
    assert main(["train", "--config", "cuhk_pedes", "--out", str(run), *overrides(*sets)]) == 0
    rows = read_csv(run / "metrics.csv")
    assert len(rows) == 2 * 4  # 4 P×K batches an epoch
    assert all(math.isfinite(float(row["total"])) for row in rows)
    assert float(rows[-1]["total"]) < float(rows[0]["total"])
    assert [row["epoch"] for row in read_csv(run / "validation.csv")] == ["1", "2"]
    model = DisReID.from_pretrained(run / "best" / "model")
    assert (model.config.backbone, model.config.num_classes) == ("clip", 8)


@pytest.mark.skipif(not (REALDATA / "real_captions.jsonl").is_file(), reason="no shared/realdata")
def test_real_crops_prepare_and_train(clip_checkpoint, tmp_path, capsys):
    """The 20 real CUHK01 crops of CUHK-PEDES with their real captions, all put in the training split."""
    root = tmp_path / "CUHK-PEDES"
    captions: dict[str, list[str]] = {}
    for line in (REALDATA / "real_captions.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("image"):
            captions.setdefault(record["file_path"], []).append(record["caption"])
            (root / "imgs" / record["file_path"]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REALDATA / record["image"], root / "imgs" / record["file_path"])
    records = [  # CUHK01/0005003.png shows person 5
        {"split": "train", "captions": texts, "file_path": path, "id": int(Path(path).stem[:4])}
        for path, texts in sorted(captions.items())
    ]
    (root / "reid_raw.json").write_text(json.dumps(records))
    assert main(["prepare", "--dataset", "cuhk-pedes", "--root", str(root)]) == 1  # not the whole set
    assert f"all {len(records)} images read" in capsys.readouterr().out
    split = {r.path.name: r for r in load_records(DataConfig(dataset="cuhk-pedes", root=str(root)), "train")}
    caption = split["0005003.png"]
    assert caption.captions[0].startswith("The man has dark colored hair and is wearing dark-colored jeans")
    assert caption.identity_captions == ("The man has dark colored hair",)

    sets = [f"data.root={root}", f"model.checkpoint={clip_checkpoint}", *TINY, "train.eval_every=0"]
    assert main(["train", "--config", "cuhk_pedes", "--out", str(tmp_path / "run"), *overrides(*sets)]) == 0
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    assert rows and all(math.isfinite(float(row["total"])) for row in rows)
