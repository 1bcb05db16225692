"""How much of other people's wording a model trained on PETA's captions can read.

The `tiny` backbone's vocabulary is the words of its training captions; a word outside it reaches the
model as the unknown token. This reads 3,077 real CUHK-PEDES captions, written by other hands about other
photos (`shared/realdata/cuhk_pedes_val_captions.jsonl`), through the vocabulary `disreid train --config
peta` builds, and counts the share of their words it knows, with and without respelling
(`disreid.text.spelling`), with the words it misses most. Controls: PETA's own test captions (every word
known, or the instrument is wrong) and the SynthPedes quickstart's vocabulary.

    python benchmarks/peta_words.py --data "DIR/PETA dataset" [--synth data/synthpedes-1500]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from transformers import PreTrainedTokenizerBase

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save  # noqa: E402
from disreid.config import load_config  # noqa: E402
from disreid.data import load_records  # noqa: E402
from disreid.model.tokenizer import build_word_tokenizer  # noqa: E402
from disreid.retrieval.search import words_as_read  # noqa: E402

REAL = Path(__file__).parents[2] / "shared" / "realdata" / "cuhk_pedes_val_captions.jsonl"


def coverage(tokenizer: PreTrainedTokenizerBase, texts: list[str], respelled: bool = True) -> dict:
    """The share of the words of `texts` (letters or digits, punctuation aside) that `tokenizer` knows,
    each word counted as written (`words_as_read`, as `search` names unknown words)."""
    missed: Counter[str] = Counter()
    words = 0
    for text in texts:
        for token, word in words_as_read(tokenizer, text, respelled):
            if any(c.isalnum() for c in word):
                words += 1
                missed[word.lower()] += token == tokenizer.unk_token_id
    unknown = sum(missed.values())
    return {
        "words": words,
        "known_share": 1 - unknown / words,
        "most_missed": [[word, count] for word, count in missed.most_common(40) if count],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="the PETA folder `disreid prepare` wrote into"
    )
    parser.add_argument("--synth", type=Path, help="a SynthPedes folder, for its vocabulary beside PETA's")
    args = parser.parse_args()
    config = load_config("peta", [f"data.root={args.data}"])
    training = [
        c for split in config.data.train_splits for r in load_records(config.data, split) for c in r.captions
    ]
    tokenizer = build_word_tokenizer(training)
    real = [json.loads(line)["caption"] for line in REAL.read_text().splitlines()]
    own = [caption for record in load_records(config.data, "test") for caption in record.captions]
    results = {
        "vocabulary": len(tokenizer),
        "real_captions": len(real),
        "real": coverage(tokenizer, real),
        "real_not_respelled": coverage(build_word_tokenizer(training, respell=False), real, respelled=False),
        "control_peta_test": coverage(tokenizer, own),
    }
    if args.synth:
        synth = load_config("synth_tiny", [f"data.root={args.synth}"])
        texts = [c for r in load_records(synth.data, "train") for c in r.captions]
        results["synthpedes_vocabulary_on_real"] = coverage(build_word_tokenizer(texts), real)
    for name, row in results.items():
        if isinstance(row, dict):
            print(f"{name}: {row['known_share']:.1%} of {row['words']:,} words known")
    print("most missed:", ", ".join(f"{w} ({n})" for w, n in results["real"]["most_missed"][:25]))
    print(f"results: {save('peta_words', results)}")


if __name__ == "__main__":
    main()
