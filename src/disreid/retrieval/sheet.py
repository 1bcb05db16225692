"""Contact sheets: the top results of a search in one PNG, to share or to look at without a server."""

from __future__ import annotations

import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from disreid.data import ImageReadError, load_image
from disreid.retrieval.search import SearchResult

THUMB = (96, 192)  # width, height: the 1:2 shape of a pedestrian crop
GAP, LABEL, FONT_SIZE = 8, 36, 12


def contact_sheet(result: SearchResult, root: str | Path, columns: int = 5) -> Image.Image:
    """A grid of the hits, best first, each with its rank, score and file name, under the query."""
    font = ImageFont.load_default(size=FONT_SIZE)
    cell_width, cell_height = THUMB[0] + GAP, THUMB[1] + LABEL
    columns = max(1, min(columns, len(result.hits)))
    rows = -(-len(result.hits) // columns)
    width = max(GAP + columns * cell_width, 400)
    title = textwrap.wrap(f"“{result.query}”", width=width // 7) + [f"mode: {result.mode}"]
    if result.text != result.query:
        title += textwrap.wrap(f"searched: “{result.text}”", width=width // 7)
    top = GAP + len(title) * (FONT_SIZE + 4) + GAP
    sheet = Image.new("RGB", (width, top + rows * cell_height), "white")
    draw = ImageDraw.Draw(sheet)
    draw.multiline_text((GAP, GAP), "\n".join(title), fill="black", font=font, spacing=4)
    for rank, hit in enumerate(result.hits):
        x, y = GAP + rank % columns * cell_width, top + rank // columns * cell_height
        sheet.paste(_thumbnail(Path(root) / hit.path), (x, y))
        name = Path(hit.path).name
        name = name if len(name) <= 14 else name[:6] + "…" + name[-7:]
        draw.text((x, y + THUMB[1] + 3), f"#{rank + 1}  {hit.score:.3f}\n{name}", fill="black", font=font)
    return sheet


def _thumbnail(path: Path) -> Image.Image:
    """The image fitted into THUMB on grey, or a grey box saying it cannot be read (deleted since
    indexing)."""
    try:
        return ImageOps.pad(load_image(path), THUMB, color=(220, 220, 220))
    except ImageReadError:
        box = Image.new("RGB", THUMB, (220, 220, 220))
        ImageDraw.Draw(box).text((8, THUMB[1] // 2), "unreadable", fill="black")
        return box
