"""The `disreid` command as a newcomer meets it: how it is run, its version, and help for every option."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import version

import pytest

from conftest import SMALL_RUN
from disreid.cli import build_parser, main


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


@pytest.mark.parametrize("command", list(_subparsers()))
def test_every_option_has_a_help_line(command: str) -> None:
    options = [a for a in _subparsers()[command]._actions if not isinstance(a, argparse._HelpAction)]
    undocumented = [a.option_strings or a.dest for a in options if not a.help or a.help == argparse.SUPPRESS]
    assert undocumented == []


def test_python_m_disreid_prints_the_version_of_the_installed_package() -> None:
    result = subprocess.run([sys.executable, "-m", "disreid", "--version"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"disreid {version('disreid')}\n"


def test_help_says_when_index_needs_model_and_images(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["index", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "usage: disreid index --model MODEL --images IMAGES --out INDEX_DIR" in text
    assert "disreid index --update --out INDEX_DIR [--images IMAGES]" in text
    assert "a run folder of `disreid train` or a saved model folder (required, except with --update)" in text


def test_help_shows_defaults_and_shipped_configs(capsys) -> None:
    for command in (["demo", "--help"], ["train", "--help"]):
        with pytest.raises(SystemExit):
            main(command)
    text = " ".join(capsys.readouterr().out.split())
    assert "port to listen on (default: 7860)" in text
    assert "the name of a config shipped with disreid, e.g. synth_tiny or cuhk_pedes" in text


def test_a_checkpoint_missing_offline_is_one_line_with_the_remedy(synth_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    overrides = [*SMALL_RUN, f"data.root={synth_root}", "model.backbone=clip"]
    overrides.append("model.checkpoint=nobody/clip-not-cached-here")
    arguments = [item for override in overrides for item in ("--set", override)]
    assert main(["train", "--config", "synth_tiny", *arguments, "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(
        "disreid train: error: cannot load 'nobody/clip-not-cached-here': it is not a local"
    )
    assert "`huggingface-cli download nobody/clip-not-cached-here --local-dir DIR`" in error
    assert "`--set model.checkpoint=DIR`" in error and error.count("\n") == 1
