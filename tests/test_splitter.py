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
    ],
)
def test_split_caption(caption: str, expected: tuple[str, str]) -> None:
    assert split_caption(caption) == expected


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
