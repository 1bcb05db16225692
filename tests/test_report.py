"""`disreid report` on tiny trained runs: every figure is a real picture, the page links only what exists,
and what a run or a data set lacks is left out with a note instead of failing the report."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import SMALL_RUN
from disreid.cli import main
from disreid.config import load_config
from disreid.report import REPORT_DIR, RESULTS_FILE, make_report
from disreid.training import Trainer

SMALL = [*SMALL_RUN, "train.epochs=2"]
FIGURES = [
    "training_curves",
    "gate",
    "embeddings",
    "leakage",
    "retrieval_examples",
    "clothes_changing_examples",
]


@pytest.fixture(scope="module")
def synth_run(synth_root, tmp_path_factory) -> Path:
    """A SynthPedes run of two epochs, validated after each."""
    run = tmp_path_factory.mktemp("runs") / "synth"
    Trainer(load_config("synth_tiny", [f"data.root={synth_root}", *SMALL, "train.eval_every=1"]), run).fit()
    return run


@pytest.fixture(scope="module")
def synth_report(synth_run) -> Path:
    return make_report(synth_run, examples=2, progress=False)


def linked_files(page: Path) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page.read_text(encoding="utf-8"))


def test_every_figure_is_a_picture_with_content(synth_report):
    assert synth_report == synth_report.parent / "report.html" and synth_report.parent.name == REPORT_DIR
    for name in FIGURES:
        with Image.open(synth_report.parent / f"{name}.png") as image:
            assert image.format == "PNG" and image.width >= 600 and image.height >= 300, name
            pixels = np.asarray(image.convert("RGB"))
        colours = np.unique(pixels.reshape(-1, 3), axis=0)
        assert len(colours) > 20, name  # not blank: text, lines, points or photographs


def test_page_links_only_files_that_exist_and_shows_metrics_and_config(synth_report):
    links = linked_files(synth_report)
    assert sorted(links) == sorted(f"{name}.png" for name in FIGURES)
    assert all((synth_report.parent / link).is_file() for link in links)
    page = synth_report.read_text(encoding="utf-8")
    for text in ("Test retrieval", "Test, clothes changing", "Best validation", "CKA(identity, clothing)",
                 "gate mean", "persons_per_batch: 4"):  # fmt: skip
        assert text in page, text
    assert "Left out" not in page and "no validation.csv" not in page


def test_results_beside_the_page_are_those_of_evaluate(synth_run, synth_root, synth_report, tmp_path):
    results = json.loads((synth_report.parent / RESULTS_FILE).read_text())
    evaluated = tmp_path / "evaluated.json"
    assert main(["evaluate", "--run", str(synth_run), "--json", str(evaluated)]) == 0
    assert results == json.loads(evaluated.read_text())


def test_run_without_validation_still_gets_its_curves(synth_run, tmp_path):
    run = shutil.copytree(synth_run, tmp_path / "run", ignore=shutil.ignore_patterns(REPORT_DIR))
    (run / "validation.csv").unlink()
    (run / "metrics.csv").write_text("".join((run / "metrics.csv").open().readlines()[:2]))  # one logged step
    page = make_report(run, examples=2, progress=False)
    assert (page.parent / "training_curves.png").is_file()
    assert "no validation.csv: no validation curves" in page.read_text(encoding="utf-8")


def test_a_baseline_on_a_real_format_data_set_leaves_out_what_it_lacks(cuhk_pedes_root, tmp_path, capsys):
    run = tmp_path / "run"
    sets = ["data.dataset=cuhk-pedes", f"data.root={cuhk_pedes_root}", "model.disentangle=false", *SMALL]
    Trainer(load_config("synth_tiny", [*sets, "train.eval_every=0"]), run).fit()
    assert main(["report", str(run), "--device", "cpu", "--examples", "2"]) == 0
    page = run / REPORT_DIR / "report.html"
    assert f"report written to {page}" in capsys.readouterr().out
    assert sorted(linked_files(page)) == ["embeddings.png", "retrieval_examples.png", "training_curves.png"]
    text = page.read_text(encoding="utf-8")
    for note in (
        "no DisentangleModule",
        "cuhk-pedes has none",
        "no test person of cuhk-pedes is labelled in several outfits",
    ):
        assert note in text, note


def test_missing_run_folder_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no run folder at"):
        make_report(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "is not a run folder of `disreid train`: it has no config.yaml" in capsys.readouterr().err


def test_a_run_finds_its_data_from_another_folder(synth_root, tmp_path, monkeypatch, capsys):
    """A run trained on a relative data folder records where that is: evaluating it from elsewhere reads
    the same data instead of drawing a new SynthPedes into the current folder."""
    monkeypatch.chdir(synth_root.parent)
    run = tmp_path / "run"
    Trainer(
        load_config("synth_tiny", [f"data.root={synth_root.name}", *SMALL, "train.eval_every=0"]), run
    ).fit()
    assert load_config(run / "config.yaml").data.root == str(synth_root)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", "--run", str(run), "--device", "cpu"]) == 0
    assert "R1" in capsys.readouterr().out
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("command", ["evaluate --run", "report"])
def test_a_relative_data_folder_missing_here_is_refused(command, synth_run, tmp_path, monkeypatch, capsys):
    """An older run holds its data folder as the relative path it was given: where that is missing from
    the current folder, the command names it and --data instead of drawing SynthPedes there."""
    run = shutil.copytree(synth_run, tmp_path / "run", ignore=shutil.ignore_patterns(REPORT_DIR))
    config = load_config(run / "config.yaml")
    config.data.root = "data/synthpedes"
    config.save(run / "config.yaml")
    monkeypatch.chdir(tmp_path)
    assert main([*command.split(), str(run), "--device", "cpu"]) == 2
    error = capsys.readouterr().err
    assert f"{run} records its data as data/synthpedes, relative to the folder it was trained from" in error
    assert f"there is no {tmp_path / 'data' / 'synthpedes'}: pass the data set folder with --data" in error
    assert not (tmp_path / "data").exists()


def test_evaluate_on_a_folder_without_a_run_says_so(tmp_path, capsys):
    assert main(["evaluate", "--run", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"{tmp_path} is not a run folder of `disreid train`: it has no config.yaml" in error
    assert "shipped" not in error
