"""Experiment files: a variant states only what it changes, and a typo is an error, not a default."""

from pathlib import Path

import pytest

from disreid.config import load_config


def test_a_config_starts_from_its_base_and_changes_only_what_it_states(tmp_path: Path):
    (tmp_path / "parent.yaml").write_text(
        "base: synth_tiny\nmodel: {image_encoder: {hidden_size: 32}}\ntrain: {epochs: 2}\n"
    )
    (tmp_path / "child.yaml").write_text("base: parent.yaml\ntrain: {lr: 0.5}\n")
    tiny, child = load_config("synth_tiny"), load_config(tmp_path / "child.yaml", ["train.epochs=3"])
    assert (child.train.epochs, child.train.lr) == (3, 0.5)  # the override, then the child, over the parent
    assert child.model.image_encoder == {**tiny.model.image_encoder, "hidden_size": 32}
    assert child.loss == tiny.loss and child.data == tiny.data


def test_synth_long_is_synth_tiny_with_more_persons_and_epochs():
    tiny, long = load_config("synth_tiny"), load_config("synth_long")
    assert long.data.synth_persons == 2 * tiny.data.synth_persons
    assert long.train.epochs == 2 * tiny.train.epochs
    assert long.model == tiny.model and long.loss == tiny.loss


def test_a_base_that_includes_itself_and_an_unknown_field_are_refused(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ValueError, match="includes"):
        load_config(tmp_path / "a.yaml")
    (tmp_path / "typo.yaml").write_text("base: synth_tiny\ntrain: {epoch: 3}\n")
    with pytest.raises(ValueError, match=r"config\.train: unknown field\(s\) epoch"):
        load_config(tmp_path / "typo.yaml")
