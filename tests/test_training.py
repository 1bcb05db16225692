"""The training engine end to end on a small SynthPedes: loss falls, R@1 rises, resume is exact."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from conftest import SMALL_RUN
from disreid.cli import main
from disreid.config import load_config
from disreid.data import load_records
from disreid.evaluation import evaluate
from disreid.model import DisReID
from disreid.training import BEST, LAST, Trainer
from disreid.training.trainer import swap_clothing_captions

SMALL = [*SMALL_RUN, "data.mismatch_prob=0.2", "train.lr=3e-3", "train.warmup_epochs=0.5"]


def small(root: Path, *extra: str):
    return load_config("synth_tiny", [f"data.root={root}", *SMALL, *extra])


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_training_lowers_the_loss_and_lifts_r1_well_above_chance(synth_root, tmp_path):
    config = small(synth_root, "train.epochs=40", "train.eval_every=0")
    trainer = Trainer(config, tmp_path / "run")
    records = load_records(config.data, "train")
    before = evaluate(trainer.model, records, config.data)["standard"]["full"]["R1"]
    trainer.fit()
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    first, last = (sum(float(r["total"]) for r in part) / len(part) for part in (rows[:5], rows[-5:]))
    assert last < 0.8 * first, (first, last)
    model = DisReID.from_pretrained(tmp_path / "run" / BEST / "model")
    after = evaluate(model, records, config.data)["standard"]["full"]["R1"]
    persons = len({r.person_id for r in records})
    chance = 100 / persons
    assert after > max(3 * chance, before + 20), (before, after, chance)


def test_resume_continues_exactly(synth_root, tmp_path):
    config = small(synth_root, "train.epochs=2", "train.eval_every=1")
    Trainer(config, tmp_path / "straight").fit()
    Trainer(small(synth_root, "train.epochs=2", "train.eval_every=1"), tmp_path / "resumed").fit(
        until_epoch=1
    )
    resumed = Trainer(
        small(synth_root, "train.epochs=2", "train.eval_every=1"), tmp_path / "resumed", resume=True
    )
    assert resumed.epoch == 1
    resumed.fit()
    straight, stopped = (
        read_csv(tmp_path / "straight" / "metrics.csv"),
        read_csv(tmp_path / "resumed" / "metrics.csv"),
    )
    assert len(straight) == len(stopped)
    for a, b in zip(straight, stopped, strict=True):
        for key in a:
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-6, abs=1e-7), key
    assert read_csv(tmp_path / "straight" / "validation.csv") == read_csv(
        tmp_path / "resumed" / "validation.csv"
    )


def test_run_folder_holds_config_checkpoints_and_logs(synth_root, tmp_path):
    Trainer(small(synth_root, "train.epochs=1"), tmp_path / "run").fit()
    run = tmp_path / "run"
    assert load_config(run / "config.yaml").data.root == str(synth_root)
    for path in (
        "config.yaml",
        "metrics.csv",
        "validation.csv",
        f"{LAST}/model/model.safetensors",
        f"{LAST}/trainer_state.pt",
        f"{BEST}/model/config.json",
        f"{BEST}/metrics.json",
    ):
        assert (run / path).exists(), path
    assert any((run / "tensorboard").iterdir())


def test_resume_refuses_another_architecture(synth_root, tmp_path):
    Trainer(small(synth_root, "train.epochs=1", "train.eval_every=0"), tmp_path / "run").fit()
    with pytest.raises(ValueError, match="embed_dim"):
        Trainer(small(synth_root, "model.embed_dim=16"), tmp_path / "run", resume=True)


def test_swapped_clothing_captions_come_from_other_outfits():
    captions = ["red", "blue", "green", "red again"]
    outfits = torch.tensor([1, 2, 3, 1])
    swapped, matched = swap_clothing_captions(captions, outfits, 1.0, torch.Generator().manual_seed(0))
    assert matched.tolist() == [0, 0, 0, 0]
    for i, caption in enumerate(swapped):
        source = captions.index(caption)
        assert outfits[source] != outfits[i]


def test_train_and_evaluate_commands(synth_root, tmp_path, capsys):
    run = tmp_path / "cli-run"
    overrides = [
        arg for value in [f"data.root={synth_root}", *SMALL, "train.epochs=1"] for arg in ("--set", value)
    ]
    assert (
        main(["train", "--config", "configs/synth_tiny.yaml", "--out", str(run), "--no-report", *overrides])
        == 0
    )
    assert main(["train", "--config", "configs/synth_tiny.yaml", "--out", str(run), *overrides]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(["evaluate", "--run", str(run), "--json", str(tmp_path / "eval.json")]) == 0
    import json

    results = json.loads((tmp_path / "eval.json").read_text())
    assert set(results["standard"]) == {"full", "identity", "clothing"}
    assert set(results["clothes_changing"]) == {"full", "identity"}
    assert {"cka", "hsic", "clothing_from_identity", "identity_from_clothing"} <= set(
        results["disentanglement"]
    )
    assert "upper_colour" in results["disentanglement"]["clothing_from_identity"]
    assert "standard full R1" in capsys.readouterr().out
