"""Peak memory and time of the standard protocol's ranking from features at ICFG-PEDES's test-set size
(19,848 captions x 19,848 images, 512-d embeddings): the whole similarity matrix first,
`rank(texts @ images.T)`, against `rank(LazySimilarity(texts, images))`, which forms one chunk of
similarities at a time on the features' device.

    python benchmarks/eval_memory.py [--devices cpu cuda] [--cases icfg-pedes cuhk-pedes]

Each (case, device, path) runs in a fresh process, which measures its peak resident memory and, with the
features on a GPU, its peak GPU memory, both beyond the features themselves. Prints a table and writes
benchmarks/results/eval_memory.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from _timing import memory_kib, reset_peak_memory, save  # noqa: E402
from disreid.evaluation.metrics import LazySimilarity, rank  # noqa: E402
from rank import CASES, make_labels  # noqa: E402

DIM = 512
ROW = "{case:<11} {size:>13} {device:>6} {path:>15} {seconds:>8} {ram:>8} {gpu:>8} {R1:>6} {mAP:>6}"
PATHS = {
    "whole matrix": lambda texts, images: texts @ images.t(),
    "LazySimilarity": LazySimilarity,
}


def make_features(case: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """Normalised caption and image embeddings around one random centre per person: a middling model."""
    rng = np.random.default_rng(seed)
    query_pids, gallery_pids = make_labels(case, rng)
    centres = torch.from_numpy(rng.standard_normal((gallery_pids.max() + 1, DIM), dtype=np.float32))

    def around(pids: np.ndarray) -> torch.Tensor:
        noise = torch.from_numpy(rng.standard_normal((len(pids), DIM), dtype=np.float32))
        return F.normalize(centres[pids] + 2.5 * noise, dim=1)

    return around(query_pids), around(gallery_pids), query_pids, gallery_pids


def worker(case: str, device: str, path: str) -> None:
    """Runs in a fresh process; prints its measurements as JSON."""
    texts, images, query_pids, gallery_pids = make_features(case)
    texts, images = texts.to(device), images.to(device)
    cuda = device == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        gpu_before = torch.cuda.memory_allocated()
    before = memory_kib("VmRSS:")
    reset_peak_memory()
    start = time.perf_counter()
    metrics = rank(PATHS[path](texts, images), query_pids, gallery_pids)
    seconds = time.perf_counter() - start
    measured = {"seconds": seconds, "extra_gib": (memory_kib("VmHWM:") - before) / 2**20, "metrics": metrics}
    if cuda:
        measured["gpu_extra_gib"] = (torch.cuda.max_memory_allocated() - gpu_before) / 2**30
    print(json.dumps(measured))


def run(case: str, device: str, path: str) -> dict:
    command = [sys.executable, __file__, "--worker", case, device, path]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=["icfg-pedes"])
    default_devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    parser.add_argument("--devices", nargs="+", choices=["cpu", "cuda"], default=default_devices)
    parser.add_argument("--worker", nargs=3, metavar=("CASE", "DEVICE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return

    print(ROW.format(case="case", size="Q x G", device="device", path="path", seconds="seconds",
                     ram="RAM GiB", gpu="GPU GiB", R1="R1", mAP="mAP"))  # fmt: skip
    results = []
    for case in args.cases:
        queries, images = CASES[case][:2]
        for device in args.devices:
            for path in PATHS:
                measured = run(case, device, path)
                gpu = f"{measured['gpu_extra_gib']:.2f}" if "gpu_extra_gib" in measured else "-"
                metrics = measured["metrics"]
                print(ROW.format(
                    case=case, size=f"{queries} x {images}", device=device, path=path,
                    seconds=f"{measured['seconds']:.2f}", ram=f"{measured['extra_gib']:.2f}", gpu=gpu,
                    R1=f"{metrics['R1']:.2f}", mAP=f"{metrics['mAP']:.2f}",
                ))  # fmt: skip
                results.append({"case": case, "queries": queries, "gallery": images, "device": device,
                                "path": path, **measured})  # fmt: skip
    path = save("eval_memory", {"dim": DIM, "runs": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
