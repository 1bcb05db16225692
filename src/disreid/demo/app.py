"""The web demo: a query box, the search mode and a grid of the best matching images of an index.

The page hands out the images of the index and nothing else. Each result goes through
`GalleryIndex.resolve`, which refuses any other file, and is linked into a folder of the page's own
(`ServedImages`), the only folder Gradio may serve files from: the images folder itself, with whatever
else it holds, is never opened to it. Nothing can be uploaded, and the query is shown as text.
"""

from __future__ import annotations

import hashlib
import html
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from disreid.retrieval import MAX_QUERY_CHARS, MODES, GalleryIndex, SearchResult, search

MODE_HELP = (
    "full: the whole description · identity: the person (body, hair, face), whatever they wear · "
    "clothing: the outfit, whoever wears it"
)
# Searches served at once. Encoding a query takes a few milliseconds and Gradio's own work around it
# (queue, events, files) as long again, so a few run side by side; more only queue on the cores.
CONCURRENT_SEARCHES = max(2, min(8, os.cpu_count() or 1))


MAX_RESULTS = 50


def refusal(message: str) -> gr.Error:
    """A query refused, said in the page's popup, which renders HTML: the message (which may repeat words
    of the query) is escaped to show as text, and nothing is logged."""
    return gr.Error(html.escape(message, quote=False), print_exception=False)


def search_note(result: SearchResult) -> str:
    """What the page says above the results: the part of the query searched, and the words left out."""
    notes = [f"Searched the {result.mode} part: “{result.text}”"] if result.text != result.query else []
    if result.unknown_words:
        notes.append(f"Not known to the model, left out: {', '.join(result.unknown_words)}")
    return " · ".join(notes)


class ServedImages:
    """A temporary folder holding a link (or copy) of each indexed image the page has shown, named by a
    hash of its path, and nothing else. Removed with this object, or at exit."""

    def __init__(self, index: GalleryIndex) -> None:
        self.index = index
        self._folder = tempfile.TemporaryDirectory(prefix="disreid-demo-")
        self.folder = Path(self._folder.name)

    def __call__(self, path: str) -> str:
        """The served file of the indexed image `path`; PermissionError for anything else."""
        source = self.index.resolve(path)
        served = self.folder / (hashlib.sha256(path.encode()).hexdigest()[:32] + source.suffix.lower())
        if not served.exists():
            staging = served.with_name(f".{served.name}.{secrets.token_hex(4)}")
            try:
                os.link(source, staging)
            except OSError:  # another file system: copy
                shutil.copyfile(source, staging)
            os.replace(staging, served)  # whole, even when two searches show it at once
        return str(served)


def build_demo(index: GalleryIndex, served: ServedImages, k: int = 12) -> gr.Blocks:
    """The page, ready to `launch` with `allowed_paths=[served.folder]` (or through `launch` below)."""

    def run_search(query: str, mode: str, count: float) -> tuple[list[tuple[str, str]], gr.Textbox]:
        # The raw values (`preprocess=False`): a client of the API can send anything, which is refused
        # here, in the popup, rather than by Gradio's checks, which log a traceback for each
        if not isinstance(query, str):
            raise refusal("the description must be text")
        if not isinstance(count, int | float) or not 1 <= count <= MAX_RESULTS:
            raise refusal(f"the number of results must be a whole number from 1 to {MAX_RESULTS}")
        try:
            result = search(index, query, mode, int(count))
        except ValueError as error:  # an empty, overlong or unreadable query: said on the page, not logged
            raise refusal(str(error)) from None
        images = [(served(hit.path), f"{hit.score:.3f} · {Path(hit.path).name}") for hit in result.hits]
        note = search_note(result)
        return images, gr.Textbox(value=note, visible=bool(note))

    index.model.encode_text(["a person"])  # the tokenizer sets itself up once, before searches share it
    with gr.Blocks(title="disreid search", analytics_enabled=False) as demo:
        gr.Markdown(f"## disreid · find a person in {len(index.paths)} images by description")
        with gr.Row():
            query = gr.Textbox(
                label="Description",
                placeholder="a young woman with long black hair, wearing a red coat and blue jeans",
                max_length=MAX_QUERY_CHARS,
                scale=4,
            )
            button = gr.Button("Search", variant="primary", scale=1, elem_id="search")
        with gr.Row():
            mode = gr.Radio(list(MODES), value="full", label="Mode", info=MODE_HELP, scale=3)
            top_k = gr.Slider(1, MAX_RESULTS, value=k, step=1, label="Results", scale=1)
        note = gr.Textbox(interactive=False, visible=False, elem_id="note")  # text, never Markdown or HTML
        gallery = gr.Gallery(label="Best matches", columns=8, object_fit="contain", elem_id="results")
        gr.on(
            [query.submit, button.click],
            run_search,
            [query, mode, top_k],
            [gallery, note],
            concurrency_limit=CONCURRENT_SEARCHES,
            preprocess=False,
        )
    return demo


def launch(
    index: GalleryIndex, host: str = "127.0.0.1", port: int | None = 7860, block: bool = True
) -> gr.Blocks:
    """Serve the page; `block=False` returns at once with the server running (`demo.local_url`,
    `demo.close()`), and `port=None` takes the first free port from 7860."""
    served = ServedImages(index)
    demo = build_demo(index, served)
    demo.launch(
        server_name=host,
        server_port=port,
        allowed_paths=[str(served.folder)],
        max_file_size=0,  # the page has no upload box: refuse every upload
        prevent_thread_lock=not block,
        quiet=not block,
    )
    return demo
