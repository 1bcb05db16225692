"""The report page: one self-contained HTML file beside its PNG figures, readable offline and easy to
attach to an issue or a paper review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1400px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } .meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 1em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
"""


@dataclass(frozen=True)
class Table:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Section:
    """A figure with what to look for in it, or, without `image`, a note on why it is left out."""

    title: str
    text: str
    image: str | None = None  # file name inside the report folder


def write_html(
    path: Path, title: str, meta: str, tables: Sequence[Table], sections: Sequence[Section], config: str
) -> None:
    """Write the page: the metric tables, then each figure section, then the run's config."""
    parts = [f"<h1>{escape(title)}</h1>", f'<p class="meta">{escape(meta)}</p>', "<h2>Metrics</h2>"]
    parts += [_table(table) for table in tables]
    for section in sections:
        parts.append(f"<h2>{escape(section.title)}</h2>")
        if section.image:
            parts.append(f"<p>{escape(section.text)}</p>")
            parts.append(f'<img src="{escape(section.image)}" alt="{escape(section.title)}">')
        else:
            parts.append(f'<p class="note">Left out: {escape(section.text)}</p>')
    parts.append(f"<h2>Configuration</h2><pre>{escape(config)}</pre>")
    body = "\n".join(parts)
    path.write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n",
        encoding="utf-8",
    )


def _table(table: Table) -> str:
    header = "".join(f"<th>{escape(cell)}</th>" for cell in table.header)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    return (
        f"<h3>{escape(table.title)}</h3><table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"
    )
