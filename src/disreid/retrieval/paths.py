"""PathTable: the image path of every vector id of an index, on disk (sqlite), for galleries of any size.

Ten million paths as Python strings take about a gigabyte and seconds to read; in sqlite they take
none of the memory, open at once and answer both questions a search asks (the path of an id, whether
a path is indexed) through its own indexes.
"""

from __future__ import annotations

import sqlite3
import struct
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from disreid.io import reading

SCHEMA = "CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE)"


class PathTable:
    """Read-only view of `paths.sqlite`: `len`, iteration in id order, `table[id]`, `path in table`.

    One connection shared by the threads of a server, behind a lock (sqlite's own objects are not
    thread-safe)."""

    def __init__(self, file: str | Path, count: int) -> None:
        """`count`: the number of rows, which the index's metadata has (counting ten million takes a
        second). A file shorter than its header says is refused by name at once."""
        self.file = Path(file)
        if not self.file.is_file():
            raise FileNotFoundError(f"{self.file} is missing: rebuild the index with `disreid index`")
        self._lock = threading.Lock()
        with reading(self.file):
            with self.file.open("rb") as handle:
                header = handle.read(100)
            page_size, pages = struct.unpack(">H", header[16:18])[0], struct.unpack(">I", header[28:32])[0]
            if self.file.stat().st_size < (65536 if page_size == 1 else page_size) * pages:
                raise ValueError(f"{pages} pages of {page_size} bytes expected, the file is shorter")
            self._db = sqlite3.connect(f"file:{self.file}?mode=ro", uri=True, check_same_thread=False)
            self._db.execute("SELECT 1 FROM images LIMIT 1").fetchall()
        self._count = count

    @staticmethod
    def write(file: str | Path, rows: Iterable[tuple[int, str]]) -> None:
        """Create `file` with the (id, path) `rows`, or add them to it."""
        with sqlite3.connect(file) as db:
            db.execute(SCHEMA.replace("TABLE", "TABLE IF NOT EXISTS"))
            db.executemany("INSERT INTO images VALUES (?, ?)", rows)
        db.close()

    @staticmethod
    def remove(file: str | Path, ids: Iterable[int]) -> None:
        with sqlite3.connect(file) as db:
            db.executemany("DELETE FROM images WHERE id = ?", ((int(i),) for i in ids))
        db.close()

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        for _, path in self.items():
            yield path

    def items(self) -> Iterator[tuple[int, str]]:
        """(id, path) in id order, read in pages (the table may hold millions)."""
        last = -1
        while True:
            with self._lock:
                page = self._db.execute(
                    "SELECT id, path FROM images WHERE id > ? ORDER BY id LIMIT 10000", (last,)
                ).fetchall()
            if not page:
                return
            yield from page
            last = page[-1][0]

    def __getitem__(self, id: int) -> str:
        with self._lock:
            row = self._db.execute("SELECT path FROM images WHERE id = ?", (int(id),)).fetchone()
        if row is None:
            raise KeyError(id)
        return row[0]

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM images WHERE path = ?", (path,)).fetchone() is not None

    def close(self) -> None:
        self._db.close()
