"""What the text side carries: each SynthPedes factor read from the text embedding of the caption part
that states it (identity factors from the identity text, clothing factors from the clothing text), beside
what the image probes read from the image embedding of the same part. A factor that the text embedding
carries and the image embedding does not is one the image encoder fails to see: the text is not what holds
retrieval back there. The probes are those of `disreid evaluate` (fit on training persons' captions, C by
person-grouped cross-validation, balanced accuracy on the test persons' captions).

    python benchmarks/text_factors.py --model runs/quickstart/disreid/best/model \
        --data runs/quickstart/synthpedes [--results runs/quickstart/disreid/report/results.json]

Prints a table and writes benchmarks/results/text_factors.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save  # noqa: E402
from disreid.data import DataConfig, ImageRecord, load_records  # noqa: E402
from disreid.data.build import as_found  # noqa: E402
from disreid.evaluation.disentanglement import PARTS, probe, probe_sample  # noqa: E402
from disreid.model import DisReID  # noqa: E402


def stated_parts(records: list[ImageRecord], kind: str) -> tuple[list[str], list[dict], np.ndarray]:
    """Every non-empty `kind` part of the records' captions, the factor values it states, its person."""
    texts, stated, persons = [], [], []
    for record in records:
        parts = record.identity_captions if kind == "identity" else record.clothing_captions
        for text, values in zip(parts or (), record.stated or (), strict=True):
            if text:
                texts.append(text)
                stated.append(values[kind])
                persons.append(record.person_id)
    return texts, stated, np.array(persons)


@torch.no_grad()
def embed(model: DisReID, texts: list[str], batch: int = 256) -> np.ndarray:
    return torch.cat([model.encode_text(texts[i : i + batch]) for i in range(0, len(texts), batch)]).numpy()


def text_readings(model: DisReID, fit: list[ImageRecord], scored: list[ImageRecord]) -> dict[str, dict]:
    """Per factor: balanced accuracy (%) of its value from the text part that states it, and 1/k."""
    readings = {}
    for kind in PARTS:
        fit_texts, fit_stated, groups = stated_parts(fit, kind)
        texts, stated, _ = stated_parts(scored, kind)
        fit_x, x = embed(model, fit_texts), embed(model, texts)
        for name in sorted(scored[0].factors[kind]):  # a clothing part may say "she": read its own factors
            fit_rows = np.array([name in values for values in fit_stated])
            rows = np.array([name in values for values in stated])
            fit_labels = np.array([values[name] for values in fit_stated if name in values])
            labels = np.array([values[name] for values in stated if name in values])
            if np.unique(fit_labels).size < 2 or np.unique(labels).size < 2:
                continue
            accuracy = probe(fit_x[fit_rows], fit_labels, groups[fit_rows], x[rows], labels)
            readings[name] = {
                "kind": kind,
                "text": accuracy,
                "chance": 100 / np.unique(labels).size,
                "captions": int(rows.sum()),
            }
    return readings


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--model", type=Path, required=True, help="a saved model folder")
    parser.add_argument("--data", type=Path, required=True, help="the SynthPedes folder it was trained on")
    parser.add_argument("--results", type=Path, help="its results.json, for the image probes beside")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()

    torch.set_num_threads(1)
    model = DisReID.from_pretrained(args.model).eval()
    data = as_found(DataConfig(dataset="synthpedes", root=str(args.data)))
    fit = probe_sample(load_records(data, "train"), per_person=2)
    readings = text_readings(model, fit, load_records(data, args.split))
    results = json.loads(args.results.read_text()) if args.results else {}
    images = results.get("disentanglement", {}).get("probes", {}).get("factors", {})
    # 1/k of each: a caption may state fewer values than images show (build only when slim or heavy).
    print(f"{'factor':14}{'part':10}{'text':>7}{'1/k':>7}{'image':>7}{'1/k':>7}{'captions':>10}")
    for name, row in readings.items():
        image = images.get(name, {})
        row["image"], row["image_chance"] = image.get("own"), image.get("chance")
        columns = (row["image"], row["image_chance"])
        shown = "".join(f"{value:7.1f}" if value is not None else f"{'-':>7}" for value in columns)
        print(f"{name:14}{row['kind']:10}{row['text']:7.1f}{row['chance']:7.1f}{shown}{row['captions']:10}")
    path = save("text_factors", {"model": str(args.model), "split": args.split, "factors": readings})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
