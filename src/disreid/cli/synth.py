"""`disreid synth`: make SynthPedes, the embedded data set, and look at it."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUT = Path("data/synthpedes")  # where training configs look for it by default


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="make SynthPedes, the embedded data set, or a preview sheet of it",
        description="Draw SynthPedes into a directory: imgs/, annotations.json (CUHK-PEDES records with "
        "outfit ids, identity/clothing caption parts and factors) and synthpedes.json (its parameters). The "
        "same seed gives the same files. With --preview, draw a contact sheet of the set in --out, making it "
        "first if the directory holds none (an existing set is previewed as it is, not remade).",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"data set directory (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--config",
        help="draw the set this experiment config trains on (its data.synth_persons, synth_seed and "
        "synth_split), so that `disreid train --config CONFIG --set data.root=OUT` reads it as it is",
    )
    parser.add_argument("--persons", type=int, help="number of persons (default: 200, or the config's)")
    parser.add_argument(
        "--split",
        type=float,
        nargs=3,
        metavar=("TRAIN", "VAL", "TEST"),
        help="the persons' shares of the train, val and test splits (default: 0.6 0.1 0.3, or the config's)",
    )
    parser.add_argument("--outfits", type=int, default=3, help="outfits per person (default: 3)")
    parser.add_argument(
        "--images-per-outfit", type=int, default=4, help="images per person and outfit (default: 4)"
    )
    parser.add_argument("--height", type=int, default=128, help="image height in pixels (default: 128)")
    parser.add_argument("--width", type=int, default=64, help="image width in pixels (default: 64)")
    parser.add_argument("--seed", type=int, help="master seed (default: 0, or the config's)")
    parser.add_argument("--workers", type=int, help="processes to draw with (default: every core)")
    parser.add_argument("--preview", type=Path, metavar="PNG", help="write a contact sheet of the set to PNG")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from disreid.config import DataConfig, load_config
    from disreid.data.synth import ANNOTATIONS, generate_synthpedes, make_preview

    if args.preview and (args.out / ANNOTATIONS).is_file():
        print(f"previewing the existing set in {args.out}")
    else:
        data = load_config(args.config).data if args.config else DataConfig(synth_persons=200)
        summary = generate_synthpedes(
            args.out,
            persons=args.persons or data.synth_persons,
            outfits=args.outfits,
            images_per_outfit=args.images_per_outfit,
            height=args.height,
            width=args.width,
            seed=data.synth_seed if args.seed is None else args.seed,
            workers=args.workers,
            split_fractions=tuple(args.split or data.synth_split),
        )
        splits = ", ".join(f"{split} {count}" for split, count in summary.persons.items())
        print(
            f"wrote {summary.images} images of {sum(summary.persons.values())} persons ({splits}) in "
            f"{summary.outfits} outfits ({summary.shared_outfits} worn by two persons) to {summary.out_dir} "
            f"in {summary.seconds:.1f} s"
        )
    if args.preview:
        print(f"preview: {make_preview(args.out, args.preview)}")
    return 0
