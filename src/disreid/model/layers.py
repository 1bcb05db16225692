"""Small building blocks shared by the encoders and the DisentangleModule."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def masked_mean(tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over the token axis of `[B, L, D]`, counting only tokens where `mask` (`[B, L]`) is true."""
    if mask is None:
        return tokens.mean(dim=1)
    weights = mask.to(tokens.dtype).unsqueeze(-1)
    return (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


class AttentionBlock(nn.Module):
    """`x = LayerNorm(x + MultiHeadAttention(q=x, k=context, v=context))`, optionally followed by a
    feed-forward sub-layer `x = LayerNorm(x + FFN(x))`.

    Attention runs through `scaled_dot_product_attention`, which picks the fused kernel of the device;
    `benchmarks/disentangle.py` measured it faster than `nn.MultiheadAttention` for training.
    """

    def __init__(self, dim: int, num_heads: int, ffn: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim ({dim}) must be divisible by num_heads ({num_heads})")
        self.num_heads = num_heads
        self.dropout = dropout
        self.in_proj = nn.Linear(dim, 3 * dim)  # query, key and value projections in one matrix
        self.out = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.ffn = (
            nn.Sequential(
                nn.Linear(dim, 4 * dim),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(4 * dim, dim),
                nn.Dropout(dropout),
            )
            if ffn
            else None
        )
        self.ffn_norm = nn.LayerNorm(dim) if ffn else None

    def forward(
        self, x: torch.Tensor, context: torch.Tensor, key_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        batch, length, dim = x.shape
        heads = self.num_heads
        if context is x:  # self-attention: one matrix product for all three
            query, key, value = self.in_proj(x).chunk(3, dim=-1)
        else:
            weight, bias = self.in_proj.weight, self.in_proj.bias
            query = F.linear(x, weight[:dim], bias[:dim])
            key, value = F.linear(context, weight[dim:], bias[dim:]).chunk(2, dim=-1)
        query, key, value = (
            t.unflatten(-1, (heads, dim // heads)).transpose(1, 2) for t in (query, key, value)
        )
        attn_mask = None if key_mask is None else key_mask[:, None, None, :]
        attended = F.scaled_dot_product_attention(
            query, key, value, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )
        attended = attended.transpose(1, 2).reshape(batch, length, dim)
        x = self.norm(x + F.dropout(self.out(attended), self.dropout, self.training))
        if self.ffn is not None:
            x = self.ffn_norm(x + self.ffn(x))
        return x


class _GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, strength: float) -> torch.Tensor:  # noqa: ANN001
        ctx.strength = strength
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ANN001
        return -ctx.strength * grad, None


def grad_reverse(x: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Identity on the way forward, `-strength * gradient` on the way back (Ganin & Lempitsky, 2015).

    A head trained on top of it learns to predict something; the layers below learn to hide it.
    """
    return _GradientReversal.apply(x, strength)
