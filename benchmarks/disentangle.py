"""Forward+backward time of the DisentangleModule with two attention implementations, and its share of a
whole training step of a ViT-B/16-sized CLIP DisReID.

    python benchmarks/disentangle.py [--repeats 3] [--device cpu]

Prints a table and writes benchmarks/results/disentangle.json.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save, save_clip_vit_b16, time_call  # noqa: E402
from disreid.losses import AdvancedLoss  # noqa: E402
from disreid.model import DisentangleModule, DisReIDConfig, build_model  # noqa: E402


class MultiheadAttentionBlock(nn.Module):
    """The same block as disreid.model.layers.AttentionBlock, on torch.nn.MultiheadAttention."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor, key_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        padding = None if key_mask is None else ~key_mask
        attended, _ = self.attention(x, context, context, key_padding_mask=padding, need_weights=False)
        return self.norm(x + attended)

    @classmethod
    def copy_of(cls, block: nn.Module, num_heads: int) -> MultiheadAttentionBlock:
        copy = cls(block.out.in_features, num_heads)
        with torch.no_grad():
            copy.attention.in_proj_weight.copy_(block.in_proj.weight)
            copy.attention.in_proj_bias.copy_(block.in_proj.bias)
            copy.attention.out_proj.load_state_dict(block.out.state_dict())
            copy.norm.load_state_dict(block.norm.state_dict())
        return copy


def with_multihead_attention(module: DisentangleModule, num_heads: int) -> DisentangleModule:
    for name in ("id_self", "cloth_self", "id_cross", "cloth_cross"):
        blocks = getattr(module, name)
        setattr(module, name, nn.ModuleList(MultiheadAttentionBlock.copy_of(b, num_heads) for b in blocks))
    return module


def forward_backward(module: nn.Module, tokens: torch.Tensor):
    def step() -> None:
        module.zero_grad(set_to_none=True)
        f_id, f_cl, gate = module(tokens)
        (f_id.square().mean() + f_cl.square().mean() + gate.mean()).backward()

    return step


def clip_step(model, batch: int, device: str):
    loss_fn = AdvancedLoss()
    pixels = torch.randn(batch, 3, *model.config.image_size, device=device)
    captions = ["a man with short black hair is wearing a red jacket blue jeans and white shoes"] * batch
    person_ids = torch.arange(batch, device=device) // 2

    def step() -> None:
        model.zero_grad(set_to_none=True)
        output = model(pixels, captions, captions, captions)
        loss_fn(output, person_ids)["total"].backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    dim, heads, tokens, batch = 768, 8, 193, 32

    sdpa = DisentangleModule(dim, heads).to(args.device)
    mha = with_multihead_attention(copy.deepcopy(sdpa), heads).to(args.device)
    with torch.no_grad():  # the two implementations compute the same function
        sample = torch.randn(2, tokens, dim, device=args.device)
        torch.testing.assert_close(sdpa.eval()(sample), mha.eval()(sample), rtol=1e-4, atol=1e-4)
    x = torch.randn(batch, tokens, dim, device=args.device)
    rows = {
        "sdpa": time_call(forward_backward(sdpa, x), args.repeats),
        "nn.MultiheadAttention": time_call(forward_backward(mha, x), args.repeats),
    }

    with tempfile.TemporaryDirectory() as checkpoint:
        save_clip_vit_b16(checkpoint, ["a man with short black hair is wearing a red jacket blue jeans"])
        config = DisReIDConfig(
            backbone="clip", checkpoint=checkpoint, image_size=(384, 128), embed_dim=512, num_classes=1000
        )
        model = build_model(config).to(args.device).train()
    whole = time_call(clip_step(model, 8, args.device), args.repeats)
    part = time_call(
        forward_backward(model.disentangle, torch.randn(8, tokens, dim, device=args.device)), args.repeats
    )
    share = part["median_s"] / whole["median_s"]

    print(f"DisentangleModule dim {dim}, {tokens} tokens, batch {batch}, forward+backward ({args.device}):")
    for name, row in rows.items():
        print(f"  {name:<24} {row['median_s']:8.3f} s  (min {row['min_s']:.3f})")
    print("Whole DisReID (clip ViT-B/16, 384x128) training step, batch 8:")
    print(
        f"  step {whole['median_s']:.3f} s, DisentangleModule {part['median_s']:.3f} s = {100 * share:.1f} %"
    )
    path = save(
        "disentangle",
        {
            "device": args.device,
            "disentangle_module": {
                "dim": dim,
                "tokens": tokens,
                "batch": batch,
                **{k: v for k, v in rows.items()},
            },
            "whole_model": {
                "backbone": "clip ViT-B/16",
                "image_size": [384, 128],
                "batch": 8,
                "step": whole,
                "disentangle_module": part,
                "share": share,
            },
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
