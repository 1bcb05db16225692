"""The web demo: a query box, the search mode and a grid of the best matching images of an index.

The page hands out the files of the index and nothing else: every result path goes through
`GalleryIndex.resolve`, which refuses any other file, and Gradio may read from the images folder only.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from disreid.retrieval import MAX_QUERY_CHARS, MODES, GalleryIndex, SearchResult, search

MODE_HELP = (
    "full: the whole description · identity: the person (body, hair, face), whatever they wear · "
    "clothing: the outfit, whoever wears it"
)


def search_note(result: SearchResult) -> str:
    """What the page says above the results: the part of the query searched, and the words left out."""
    notes = [f"Searched the {result.mode} part: “{result.text}”"] if result.text != result.query else []
    if result.unknown_words:
        notes.append(f"Not known to the model, left out: {', '.join(result.unknown_words)}")
    return " · ".join(notes)


def build_demo(index: GalleryIndex, k: int = 12) -> gr.Blocks:
    """The page, ready to `launch` with `allowed_paths=[index.root]` (or through `launch` below)."""

    def run_search(query: str, mode: str, count: float) -> tuple[list[tuple[str, str]], str]:
        try:
            result = search(index, query, mode, int(count))
        except ValueError as error:  # an empty, overlong or unreadable query: say so on the page
            raise gr.Error(str(error)) from error
        images = [
            (str(index.resolve(hit.path)), f"{hit.score:.3f} · {Path(hit.path).name}") for hit in result.hits
        ]
        return images, search_note(result)

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
            top_k = gr.Slider(1, 50, value=k, step=1, label="Results", scale=1)
        note = gr.Markdown()
        gallery = gr.Gallery(label="Best matches", columns=8, object_fit="contain", elem_id="results")
        gr.on([query.submit, button.click], run_search, [query, mode, top_k], [gallery, note])
    return demo


def launch(
    index: GalleryIndex, host: str = "127.0.0.1", port: int | None = 7860, block: bool = True
) -> gr.Blocks:
    """Serve the page; `block=False` returns at once with the server running (`demo.local_url`,
    `demo.close()`), and `port=None` takes the first free port from 7860."""
    demo = build_demo(index)
    demo.launch(
        server_name=host,
        server_port=port,
        allowed_paths=[str(index.root)],
        prevent_thread_lock=not block,
        quiet=not block,
    )
    return demo
