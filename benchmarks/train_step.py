"""Images per second of a DisReID training step and of evaluation embedding, with the `clip` backbone at
ViT-B/16 size (random weights), 384×128 images, batch 64: bf16 autocast on a GPU, fp32 on a CPU.

    python benchmarks/train_step.py [--batch 64] [--repeats 5] [--device cuda]
    python benchmarks/train_step.py --small        # batch 4, 2 repeats: a quick check on a CPU

The training step is the Trainer's: forward with every loss term, backward, gradient clipping and AdamW.
Embedding is `encode_image` in eval mode without gradients, as evaluation and indexing run it. Prints a
table and writes benchmarks/results/train_step.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save, save_clip_vit_b16, time_call  # noqa: E402
from disreid.config import TrainConfig  # noqa: E402
from disreid.losses import AdvancedLoss  # noqa: E402
from disreid.model import DisReIDConfig, build_model  # noqa: E402
from disreid.text import split_caption  # noqa: E402
from disreid.training.optim import build_optimizer  # noqa: E402

CAPTIONS = [  # CUHK-PEDES-like, each with an identity and a clothing part
    "A young woman with long black hair is wearing a red jacket, blue jeans and white sneakers.",
    "The man has short brown hair. He wears a grey coat over a white shirt, black trousers and brown shoes.",
    "A tall man with glasses is walking. He is dressed in a green t-shirt and khaki shorts and carries a "
    "black backpack on his back.",
    "The woman has a ponytail and wears a pink blouse with a long black skirt and holds a white handbag.",
]
IMAGE_SIZE = (384, 128)
CLASSES = 11003  # CUHK-PEDES's training identities


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--small", action="store_true", help="batch 4 and 2 repeats")
    args = parser.parse_args()
    batch, repeats = (4, 2) if args.small else (args.batch, args.repeats)
    device = torch.device(args.device)
    cuda = device.type == "cuda"

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as checkpoint:
        save_clip_vit_b16(checkpoint, CAPTIONS)
        config = DisReIDConfig(
            backbone="clip", checkpoint=checkpoint, image_size=IMAGE_SIZE, embed_dim=512, num_classes=CLASSES
        )
        model = build_model(config).to(device)
    optimizer = build_optimizer(model, TrainConfig(lr=1e-5, new_layer_lr_factor=5))
    loss_fn = AdvancedLoss()
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext()
    pixels = torch.randn(batch, 3, *IMAGE_SIZE, device=device)
    captions = [CAPTIONS[i % len(CAPTIONS)] for i in range(batch)]
    identity, clothing = zip(*map(split_caption, captions), strict=True)
    person_ids = torch.arange(batch, device=device) // 4  # P×K with K = 4

    def finish() -> None:  # CUDA runs asynchronously: time the work, not its launch
        if cuda:
            torch.cuda.synchronize()

    def train_step() -> None:
        model.train()
        with autocast:
            losses = loss_fn(model(pixels, captions, identity, clothing), person_ids, person_ids)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        finish()

    @torch.no_grad()
    def embed() -> None:
        model.eval()
        with autocast:
            model.encode_image(pixels)
        finish()

    rows = {}
    for name, function in (("training step", train_step), ("embedding", embed)):
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        row = time_call(function, repeats)
        row["images_per_s"] = batch / row["median_s"]
        if cuda:
            row["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
        rows[name] = row

    precision = "bf16 autocast" if cuda else "fp32"
    where = torch.cuda.get_device_name(device) if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"clip ViT-B/16 DisReID, {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]}, batch {batch}, {precision} ({where}):")
    for name, row in rows.items():
        memory = f"   peak {row['peak_gib']:.1f} GiB" if cuda else ""
        print(f"  {name:<14} {row['median_s']:8.3f} s  {row['images_per_s']:8.1f} images/s{memory}")
    setup = {"device": str(device), "precision": precision, "image_size": list(IMAGE_SIZE), "batch": batch}
    path = save("train_step", {**setup, **rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
