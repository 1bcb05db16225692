"""Clause-level accuracy of the caption splitter on labelled captions.

    python benchmarks/splitter.py [--real PATH] [--labelled PATH]

Each record holds a caption and its gold spans (exact, in-order substrings labelled identity, clothing
or other). A gold span is placed correctly when at least 80% of its content words fall inside clauses
that the splitter sent to the span's side. Every clause goes whole to exactly one side, so a word that
lands on the right side is absent from the other; scoring by position rather than by the words of the
output strings keeps a repeated word ("black") from being counted where it is not. Also reported: how
often the identity text is non-empty when a gold identity span names a gender, hair or build. The figure
for "other" spans is informative only: the labels call all of "The woman is seen from the back" other,
where the splitter, by the same labels' subject rule, sends "The woman" to identity.

Prints the figures for both sets and writes benchmarks/results/splitter.json.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from disreid.text import split_caption, split_clauses

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata" / "real_captions.jsonl"
LABELLED = ROOT / "tests" / "data" / "split_captions_labelled.jsonl"
RESULTS = Path(__file__).parent / "results"
THRESHOLD = 0.8

_WORD = re.compile(r"[^\W_]+(?:['’/-][^\W_]+)*")
_STOPWORD = re.compile(
    "a|an|the|and|or|but|of|to|as|is|are|was|were|be|been|being|am|has|have|had|he|she|they|it|his|her|"
    "their|its|him|them|this|that|these|there|who|which|while|with|in|on|at|by|for|from|also",
    re.IGNORECASE,
)
# Deliberately independent of the splitter's lexicon: words that name gender, hair or build.
_NAMES_IDENTITY = re.compile(
    r"\b(?:m[ae]n|wom[ae]n|male|female|boy|girl|lady|guy|gentleman|hair\w*|bald|ponytail|pigtails|"
    r"slim|slender|thin|fat|chubby|plump|stout|stocky|overweight|muscular|build)\b",
    re.IGNORECASE,
)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def _span_is_correct(caption: str, start: int, end: int, label: str, placed: list[str | None]) -> bool | None:
    """None when the span has no content word to judge."""
    words = [m for m in _WORD.finditer(caption, start, end) if not _STOPWORD.fullmatch(m.group())]
    if not words:
        return None
    right = sum(placed[word.start()] == label for word in words)
    return right >= THRESHOLD * len(words)


def score(records: list[dict]) -> dict[str, float | int]:
    """Accuracy (%) per gold label, span counts, and the identity-non-empty rate (%)."""
    right = {"identity": 0, "clothing": 0, "other": 0}
    total = dict.fromkeys(right, 0)
    named = non_empty = 0
    for record in records:
        caption = record["caption"]
        placed: list[str | None] = [None] * len(caption)
        for clause in split_clauses(caption):
            placed[clause.start : clause.end] = [clause.label] * (clause.end - clause.start)
        position, names_identity = 0, False
        for span in record["spans"]:
            start = caption.index(span["text"], position)
            position = end = start + len(span["text"])
            correct = _span_is_correct(caption, start, end, span["label"], placed)
            if correct is not None:
                right[span["label"]] += correct
                total[span["label"]] += 1
            names_identity |= span["label"] == "identity" and bool(_NAMES_IDENTITY.search(span["text"]))
        if names_identity:
            named += 1
            non_empty += bool(split_caption(caption)[0])
    result: dict[str, float | int] = {"captions": len(records)}
    for label in right:
        result[f"{label}_accuracy"] = round(100 * right[label] / max(total[label], 1), 1)
        result[f"{label}_spans"] = total[label]
    result["identity_non_empty"] = round(100 * non_empty / max(named, 1), 1)
    result["naming_identity"] = named
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL, help="real labelled captions (JSON lines)")
    parser.add_argument("--labelled", type=Path, default=LABELLED, help="hand-written labelled captions")
    args = parser.parse_args()
    results = {
        name: score(read_jsonl(path)) for name, path in (("real", args.real), ("labelled", args.labelled))
    }
    print(
        f"{'set':<10}{'captions':>9}{'identity %':>12}{'clothing %':>12}{'other %':>9}{'id non-empty %':>16}"
    )
    for name, r in results.items():
        print(
            f"{name:<10}{r['captions']:>9}{r['identity_accuracy']:>12}{r['clothing_accuracy']:>12}"
            f"{r['other_accuracy']:>9}{r['identity_non_empty']:>16}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "splitter.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
