"""A contact sheet of a SynthPedes set: one row per person, their images across outfits.

Made to be looked at: can a person tell two rows apart, and see that a row is one person whatever
they wear? Each row is labelled with the person's id, split and identity factors, each image with its
outfit id (an outfit worn by two persons has the same id in both rows).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

LABEL_WIDTH = 150
CAPTION_HEIGHT = 14
INK = (20, 20, 20)


def make_preview(
    data_dir: str | Path,
    out_png: str | Path,
    persons: int = 8,
    images: int = 8,
    split: str | None = None,
    zoom: int = 2,
) -> Path:
    """Write a sheet of `persons` persons spread over the set (or over `split`), `images` images each."""
    data_dir, out_png = Path(data_dir), Path(out_png)
    annotations = data_dir / "annotations.json"
    if not annotations.is_file():
        raise FileNotFoundError(
            f"{annotations} not found: make a set first with `disreid synth --out {data_dir}`"
        )
    by_person: dict[int, list[dict]] = defaultdict(list)
    for record in json.loads(annotations.read_text(encoding="utf-8")):
        if split is None or record["split"] == split:
            by_person[record["id"]].append(record)
    if not by_person:
        raise ValueError(f"no persons in split {split!r} of {data_dir}")
    ids = sorted(by_person)
    chosen = [ids[round(i * (len(ids) - 1) / max(1, persons - 1))] for i in range(min(persons, len(ids)))]
    rows = [_spread(by_person[person], images) for person in chosen]
    with Image.open(data_dir / rows[0][0]["file_path"]) as first:
        tile_w, tile_h = first.width * zoom, first.height * zoom
    cell_h = tile_h + CAPTION_HEIGHT
    sheet = Image.new("RGB", (LABEL_WIDTH + images * tile_w, len(rows) * cell_h), "white")
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default()
    for r, row in enumerate(rows):
        y = r * cell_h
        identity = row[0]["factors"]["identity"]
        label = [f"id {row[0]['id']} ({row[0]['split']})"] + [
            f"{name}: {value}" for name, value in identity.items()
        ]
        draw.multiline_text((4, y + 4), "\n".join(label), fill=INK, font=font, spacing=2)
        for c, record in enumerate(row):
            with Image.open(data_dir / record["file_path"]) as image:
                sheet.paste(
                    image.convert("RGB").resize((tile_w, tile_h), Image.NEAREST),
                    (LABEL_WIDTH + c * tile_w, y),
                )
            draw.text(
                (LABEL_WIDTH + c * tile_w + 2, y + tile_h + 1),
                f"outfit {record['outfit']}",
                fill=INK,
                font=font,
            )
    out_png.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_png)
    return out_png


def _spread(records: list[dict], count: int) -> list[dict]:
    """Up to `count` records, taking from each outfit in turn so that every outfit shows."""
    by_outfit: dict[int, list[dict]] = defaultdict(list)
    for record in records:
        by_outfit[record["outfit"]].append(record)
    queues = [by_outfit[outfit] for outfit in sorted(by_outfit)]
    interleaved = [queue[i] for i in range(max(map(len, queues))) for queue in queues if i < len(queue)]
    return sorted(interleaved[:count], key=lambda record: (record["outfit"], record["file_path"]))
