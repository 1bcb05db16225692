"""Helpers shared by the benchmark scripts: timing, peak memory, a ViT-B/16-sized CLIP, writing results."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

RESULTS = Path(__file__).parent / "results"


def time_call(function: Callable[[], object], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median and minimum wall time of `function()` in seconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": repeats}


def memory_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status, e.g. "VmRSS:" (resident) or "VmHWM:" (peak)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def reset_peak_memory() -> None:
    """Make the peak resident size ("VmHWM:") start again from the current resident size."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def save_clip_vit_b16(directory: str | Path, texts: Sequence[str]) -> None:
    """A CLIP of ViT-B/16's size (vision patch 16, the text tower and its 49,408-token embedding at CLIP's
    defaults) with random weights, and a word-level tokenizer of `texts`, saved as a Hugging Face
    checkpoint: the `clip` backbone's real cost, with nothing to download."""
    from transformers import CLIPConfig, CLIPModel  # here: the other benchmarks need no transformers

    from disreid.model.tokenizer import build_word_tokenizer

    tokenizer = build_word_tokenizer(texts)
    text = {"eos_token_id": tokenizer.sep_token_id, "pad_token_id": tokenizer.pad_token_id}
    CLIPModel(CLIPConfig(text_config=text, vision_config={"patch_size": 16})).save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def machine() -> dict[str, object]:
    return {
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    return path
