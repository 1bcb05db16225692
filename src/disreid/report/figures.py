"""The report's figures, one function each: what a run learned and where it fails, drawn so that each
reads without the text around it. Figures are built on `matplotlib.figure.Figure`, without pyplot, so
no backend or global state is involved."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from functools import partial

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from disreid.data import CaptionQueries, ImageRecord, load_image
from disreid.evaluation.disentanglement import LEAKAGE_NAMES
from disreid.evaluation.metrics import SUMMARY_METRICS
from disreid.evaluation.protocols import EmbeddedSplit

TEXT_FIELDS = {"full": "caption", "identity": "identity_caption", "clothing": "clothing_caption"}
CORRECT, WRONG = "#2ca02c", "#d62728"
MARKERS = "os^Dv<>Pp*"
# Twenty colours told apart at a glance (after Sasha Trubetskoy's list), for twenty groups per map.
PALETTE = [
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
    "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000",
    "#ffd8b1", "#000075", "#a9a9a9", "#000000",
]  # fmt: skip


# ------------------------------------------------------------------------------------------- training
def training_curves(
    metrics: Sequence[dict[str, float]], validation: Sequence[dict[str, float]], weights: dict[str, float]
) -> Figure:
    """One panel per loss term that trains (non-zero weight) and the total, the learning rate, and the
    validation metrics, all against the training step (epochs on top) so that they line up."""
    terms = [key for key in metrics[0] if key not in ("step", "epoch", "lr") and weights.get(key, 1.0) != 0]
    columns = 4
    rows = -(-(len(terms) + 1 + 2 * bool(validation)) // columns)  # validation spans two cells
    figure = Figure(figsize=(4 * columns, 3.3 * rows), layout="constrained")
    grid = figure.add_gridspec(rows, columns)
    # The step at which each epoch ends: exact from validation rows, else the last step logged in it.
    ends = {int(row["epoch"]): row["step"] for row in validation or metrics}
    end_steps, end_epochs = [0, *ends.values()], [0, *ends]

    def panel(cell: int, title: str, ylabel: str, span: int = 1) -> Axes:
        row, column = divmod(cell, columns)
        axes = figure.add_subplot(grid[row, column : min(column + span, columns)])
        _label(axes, title, "training step", ylabel)
        epochs = axes.secondary_xaxis(
            "top",
            functions=(
                lambda s: np.interp(s, end_steps, end_epochs),
                lambda e: np.interp(e, end_epochs, end_steps),
            ),
        )
        epochs.set_xlabel("epoch", fontsize="small")
        return axes

    steps = [row["step"] for row in metrics]
    dots = {"marker": "o", "markersize": 3} if len(steps) < 50 else {}  # a short log shows its points
    for cell, term in enumerate(terms):
        values = np.array([row[term] for row in metrics])
        weight = "" if term == "total" else f"  (weight {weights.get(term, 1.0):g})"
        axes = panel(cell, f"loss: {term}{weight}", "loss")
        axes.plot(steps, values, color="C0", alpha=0.3, linewidth=1)
        axes.plot(steps, _smooth(values), color="C0", linewidth=2, **dots)
    axes = panel(len(terms), "learning rate", "lr")
    axes.plot(steps, [row["lr"] for row in metrics], color="C1", **dots)
    axes.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    if validation:
        axes = panel(len(terms) + 1, "validation (full mode)", "%", span=2)
        for index, name in enumerate(SUMMARY_METRICS):
            values = [row[name] for row in validation]
            axes.plot([row["step"] for row in validation], values, marker="o", color=f"C{index}", label=name)
        axes.set_ylim(0, 100)
        axes.legend(loc="best", fontsize="small", ncols=len(SUMMARY_METRICS))
    figure.legend(
        handles=[Line2D([], [], color="C0", alpha=0.3), Line2D([], [], color="C0", linewidth=2)],
        labels=["logged loss", "moving average"],
        loc="outside upper right",
        ncols=2,
    )
    figure.suptitle("Training curves", fontsize="x-large")
    return figure


def _smooth(values: np.ndarray, window: int = 10) -> np.ndarray:
    """An exponential moving average, TensorBoard's smoothing: the trend through the per-batch noise."""
    decay = 1 - 1 / max(1, min(window, len(values) // 5))
    smoothed = np.empty_like(values, dtype=float)
    smoothed[0] = values[0]
    for i in range(1, len(values)):
        smoothed[i] = decay * smoothed[i - 1] + (1 - decay) * values[i]
    return smoothed


def _label(axes: Axes, title: str, xlabel: str, ylabel: str) -> None:
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)


# ----------------------------------------------------------------------------------------------- gate
def gate_figure(gate: torch.Tensor) -> Figure:
    """Where the gate sends each feature: near 1 to identity, near 0 to clothing. A gate stuck at 0.5
    everywhere has learned no split; a bimodal one has."""
    values = gate.float().numpy()
    figure = Figure(figsize=(12, 4), layout="constrained")
    histogram, per_dimension = figure.subplots(1, 2, width_ratios=[1, 1.4])
    histogram.hist(values.ravel(), bins=50, range=(0, 1), color="C4")
    histogram.axvline(0.5, color="black", linestyle="--", linewidth=1, label="0.5 (no preference)")
    histogram.legend(loc="upper left", fontsize="small")
    _label(
        histogram,
        f"all gate values ({values.shape[0]} images × {values.shape[1]} dims)",
        "gate value g  (0 = clothing, 1 = identity)",
        "count",
    )
    order = np.argsort(values.mean(0))
    dims = np.arange(values.shape[1])
    low, high = np.percentile(values[:, order], [10, 90], axis=0)
    per_dimension.fill_between(
        dims, low, high, color="C4", alpha=0.25, label="10–90th percentile over images"
    )
    per_dimension.plot(dims, values.mean(0)[order], color="C4", linewidth=2, label="mean over images")
    per_dimension.axhline(0.5, color="black", linestyle="--", linewidth=1)
    per_dimension.set_ylim(0, 1)
    per_dimension.legend(loc="upper left", fontsize="small")
    _label(per_dimension, "gate per feature dimension", "dimension, sorted by mean gate", "gate value g")
    figure.suptitle("Gate of the DisentangleModule on the test images", fontsize="x-large")
    return figure


# ----------------------------------------------------------------------------------------- embeddings
def embedding_maps(split: EmbeddedSplit, groups: int = 20, seed: int = 0) -> Figure:
    """t-SNE maps of the identity and the clothing embeddings of the gallery images. Identity should
    gather a person's images whatever they wear; clothing should gather an outfit's images whoever wears
    it. Where the data has no outfit labels, both maps are coloured by person."""
    rng = np.random.default_rng(seed)
    identity, clothing = split.images["identity"].numpy(), split.images["clothing"].numpy()
    persons, outfits = split.gallery_pids.numpy(), split.gallery_outfits.numpy()
    has_outfits = bool((outfits >= 0).all())
    figure = Figure(figsize=(14, 7), layout="constrained")
    chosen = rng.permutation(np.unique(persons))[:groups]
    rows = np.isin(persons, chosen)
    outfit_note = ", marker = the person's outfit" if has_outfits else ""
    panels = [(identity[rows], persons[rows], outfits[rows], "outfit",
               f"identity embedding of {len(chosen)} persons\ncolour = person{outfit_note}")]  # fmt: skip
    if has_outfits:
        # Outfits worn by several persons first: they show whether clothing is told apart from its wearer.
        wearers = {outfit: len(np.unique(persons[outfits == outfit])) for outfit in np.unique(outfits)}
        worn = sorted(rng.permutation(list(wearers)), key=lambda outfit: -wearers[outfit])[:groups]
        shared = sum(wearers[outfit] > 1 for outfit in worn)
        rows = np.isin(outfits, worn)
        panels.append((clothing[rows], outfits[rows], persons[rows], "wearer",
                       f"clothing embedding of {len(worn)} outfits ({shared} worn by several persons)\n"
                       "colour = outfit, marker = the outfit's wearer"))  # fmt: skip
    else:
        panels.append((clothing[rows], persons[rows], outfits[rows], "",
                       f"clothing embedding of the same {len(chosen)} persons\n"
                       "colour = person (no outfit labels)"))  # fmt: skip
    for axes, panel in zip(figure.subplots(1, 2), panels, strict=True):
        _tsne_panel(axes, *panel, seed=seed)
    figure.suptitle(
        "t-SNE of test image embeddings: points of one colour should lie together", fontsize="x-large"
    )
    return figure


def _tsne_panel(
    axes: Axes,
    features: np.ndarray,
    colours: np.ndarray,
    markers: np.ndarray,
    marker_name: str,
    title: str,
    seed: int,
) -> None:
    """A 2-D t-SNE of `features`: one colour per value of `colours` and, within each colour, one marker
    per value of `markers` (the person's first outfit, second, ...), with a legend of those markers."""
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(features) - 1) / 3)
    points = TSNE(perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)
    most = 0
    for index, group in enumerate(np.unique(colours)):
        inside = colours == group
        for rank, sub in enumerate(np.unique(markers[inside])):
            at = inside & (markers == sub)
            colour, marker = PALETTE[index % len(PALETTE)], MARKERS[rank % len(MARKERS)]
            axes.scatter(*points[at].T, color=colour, marker=marker, s=45, edgecolors="black", linewidths=0.4)
            most = max(most, rank + 1)
    axes.set_title(title)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_xlabel("t-SNE 1")
    axes.set_ylabel("t-SNE 2")
    if most > 1:
        handles = [
            Line2D([], [], marker=MARKERS[r], color="grey", linestyle="", markeredgecolor="black")
            for r in range(min(most, len(MARKERS)))
        ]
        axes.legend(
            handles,
            [f"{marker_name} {r + 1}" for r in range(len(handles))],
            loc="best",
            fontsize="small",
            ncols=min(len(handles), 5),
        )


# -------------------------------------------------------------------------------------------- leakage
def leakage_figure(report: dict) -> Figure:
    """Per factor, the leak probe beside its controls (the factor read from its own part and from the full
    embedding), 1/k and the floor (the factor read from the other kind's true labels): a leak bar as long
    as the own-part bar means the wrong embedding holds the factor as well as the right one does, unless
    the floor says the data ties the two together that much."""
    probes = report["probes"]
    titles = {"clothing": "clothing factors (leak: from the identity embedding)",
              "identity": "identity factors (leak: from the clothing embedding)"}  # fmt: skip
    rows = {kind: [f for f, row in probes["factors"].items() if row["kind"] == kind] for kind in titles}
    figure = Figure(figsize=(13, max(3.0, 1.6 + 0.6 * max(map(len, rows.values())))), layout="constrained")
    bars = (("leak", "C3", "leak"), ("own", "C0", "own part (control)"), ("full", "C7", "full (control)"))
    for axes, (kind, title) in zip(figure.subplots(1, 2), titles.items(), strict=True):
        factors = rows[kind]
        y = np.arange(len(factors))
        for offset, (key, colour, label) in zip((-0.27, 0.0, 0.27), bars, strict=True):
            values = [probes["factors"][f][key] for f in factors]
            axes.barh(y + offset, values, height=0.26, color=colour, label=label)
        chance = [probes["factors"][f]["chance"] for f in factors]
        axes.plot(chance, y, "|", color="black", ms=26, mew=2.5, label="1/k")
        floor = [probes["factors"][f].get("floor", np.nan) for f in factors]
        axes.plot(floor, y - 0.27, "D", color="black", ms=5, label="floor (the other kind's labels)")
        summary = probes["leakage"][LEAKAGE_NAMES[kind]]
        leakage = "-" if summary["leakage"] is None else f"{summary['leakage']:.2f}"
        if summary.get("floor") is not None:
            leakage += f" (floor {summary['floor']:.2f})"
        unseen = ", ".join(summary["not_perceived"]) or "none"
        axes.set_yticks(y, factors)
        axes.invert_yaxis()
        axes.set_xlim(0, 105)
        axes.legend(loc="lower right", fontsize="small")
        caption = textwrap.fill(f"leakage {leakage}; not perceived: {unseen}", 60)
        _label(axes, f"{title}\n{caption}", "balanced accuracy (%)", "")
    figure.suptitle(f"Leakage probes, fit on {probes['fit_on']}", fontsize="x-large")
    return figure


# ------------------------------------------------------------------------------------------ retrieval
def ranked(split: EmbeddedSplit, queries: torch.Tensor, mode: str, clothes_changing: bool) -> torch.Tensor:
    """Scores `[len(queries), G]` of the gallery for each query; in the clothes-changing protocol the
    images of the query's own (person, outfit) score -inf, as if removed."""
    scores = split.texts[mode][queries] @ split.images[mode].T
    if clothes_changing:
        same = (split.query_pids[queries, None] == split.gallery_pids) & (
            split.query_outfits[queries, None] == split.gallery_outfits
        )
        scores = scores.masked_fill(same, float("-inf"))
    return scores


def pick_queries(
    split: EmbeddedSplit, count: int, mode: str = "full", clothes_changing: bool = False, seed: int = 0
) -> list[int]:
    """`count` queries of distinct persons drawn at random, half where `mode` ranks a correct image first
    and half where it does not (as many as exist): a report shows failures beside successes.
    Clothes-changing queries are drawn among persons seen in other outfits too."""
    shuffled = torch.randperm(len(split.query_pids), generator=torch.Generator().manual_seed(seed))
    _, first = np.unique(split.query_pids[shuffled].numpy(), return_index=True)  # one query per person
    candidates = shuffled[np.sort(first)][:512]
    if clothes_changing:
        pids, outfits = split.query_pids[candidates, None], split.query_outfits[candidates, None]
        elsewhere = ((split.gallery_pids == pids) & (split.gallery_outfits != outfits)).any(1)
        candidates = candidates[elsewhere]
    top = ranked(split, candidates, mode, clothes_changing).argmax(1)
    hit = split.gallery_pids[top] == split.query_pids[candidates]
    hits, misses = candidates[hit], candidates[~hit]
    take = min(len(hits), max(count // 2, count - len(misses)))
    return torch.cat([hits[:take], misses[: count - take]]).tolist()


def retrieval_examples(
    split: EmbeddedSplit,
    records: Sequence[ImageRecord],
    queries: Sequence[int],
    modes: Sequence[str] = ("full", "identity"),
    clothes_changing: bool = False,
    k: int = 5,
) -> Figure:
    """For each query and mode: the text that was encoded, the image it describes, and the top `k`
    images with their scores, framed green where they show the query's person and red where they do not."""
    captions = CaptionQueries(records)
    rows = [(query, mode) for query in queries for mode in modes]
    figure = Figure(figsize=(3.4 + 1.05 * (k + 1), 2.5 * len(rows)), layout="constrained")
    grid = figure.add_gridspec(len(rows), k + 3, width_ratios=[3.4, 1, 0.15] + [1] * k, wspace=0.02)
    described = "described image\n(removed)" if clothes_changing else "described image"
    for row, (query, mode) in enumerate(rows):
        scores = ranked(split, torch.tensor([query]), mode, clothes_changing)[0]
        order = scores.argsort(descending=True, stable=True)
        order = order[scores[order] > float("-inf")]
        correct = split.gallery_pids[order] == split.query_pids[query]
        first = (
            f"first correct image: rank {int(correct.nonzero()[0]) + 1}"
            if correct.any()
            else "no correct image"
        )
        item = captions[query]
        text_axes = figure.add_subplot(grid[row, 0])
        text_axes.axis("off")
        text = "\n".join(textwrap.wrap(f"“{item[TEXT_FIELDS[mode]]}”", 44)[:8])
        write = partial(text_axes.text, 0, transform=text_axes.transAxes, fontsize="small")
        write(1, f"{mode} mode, person {item['person_id']}", weight="bold", fontsize="medium", va="top")
        write(0.87, text, va="top")
        write(0, f"{first} of {len(order)}", va="bottom", style="italic")
        _thumbnail(figure.add_subplot(grid[row, 1]), records[item["image_index"]], "black", described)
        for column, (index, good) in enumerate(zip(order[:k].tolist(), correct[:k].tolist(), strict=True)):
            _thumbnail(
                figure.add_subplot(grid[row, column + 3]),
                records[index],
                CORRECT if good else WRONG,
                f"#{column + 1}   {float(scores[index]):.3f}",
            )
    title = (
        "Clothes-changing retrieval: the images of the query's own outfit are removed from the gallery"
        if clothes_changing
        else "Retrieval examples: the top images for each query, with their scores"
    )
    figure.legend(  # its title is the figure's: a suptitle and an outside legend would overlap
        handles=[Patch(facecolor="white", edgecolor=colour, linewidth=3) for colour in (CORRECT, WRONG)],
        labels=["shows the query's person", "shows another person"],
        loc="outside upper center",
        ncols=2,
        title=title,
        title_fontsize="x-large",
        frameon=False,
    )
    return figure


def _thumbnail(axes: Axes, record: ImageRecord, frame: str, title: str) -> None:
    axes.imshow(load_image(record.path))
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_color(frame)
        spine.set_linewidth(4)
    axes.set_title(title, fontsize="small")
