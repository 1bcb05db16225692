"""Images per second of SynthPedes generation, end to end (drawing, PNG files, annotations), on one
process and on every core. The target is 300 images/s at 128x64 with every core.

    python benchmarks/synth_speed.py [--persons 100] [--height 128 --width 64]

Prints a table and writes benchmarks/results/synth_speed.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save  # noqa: E402
from disreid.data.synth import generate_synthpedes  # noqa: E402

TARGET = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=100, help="persons per run (12 images each)")
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=64)
    args = parser.parse_args()
    cores, size = len(os.sched_getaffinity(0)), {"height": args.height, "width": args.width}
    runs = []
    for workers in sorted({1, cores}):
        with tempfile.TemporaryDirectory() as tmp:
            summary = generate_synthpedes(
                Path(tmp) / "set", args.persons, workers=workers, progress=False, **size
            )
        seconds = summary.seconds
        runs.append({"workers": workers, "images": summary.images, "seconds": round(seconds, 3)})
        runs[-1]["images_per_s"] = round(summary.images / seconds, 1)
    print(
        f"SynthPedes at {args.height}x{args.width} on {cores} cores; target {TARGET} images/s on every core"
    )
    print(f"{'workers':>8} {'images':>7} {'seconds':>8} {'images/s':>9}")
    for run in runs:
        print(f"{run['workers']:>8} {run['images']:>7} {run['seconds']:>8.2f} {run['images_per_s']:>9.1f}")
    path = save("synth_speed", {**size, "cores": cores, "target_images_per_s": TARGET, "runs": runs})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
