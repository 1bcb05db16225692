"""DisentangleModule: split image tokens into an identity part and a clothing part (SPEC §2)."""

from __future__ import annotations

import torch
from torch import nn

from disreid.model.layers import AttentionBlock, masked_mean


class DisentangleModule(nn.Module):
    """Two attention branches over the same tokens, made to talk through symmetric cross-attention, then
    pooled and weighed against each other by a gate.

    Returns `(gate * id, (1 - gate) * cloth, gate)`, each `[B, dim]`. The gate decides, per dimension,
    how much of the full image embedding comes from identity and how much from clothing.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        self_layers: int = 6,
        cross_layers: int = 3,
        ffn: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()

        def blocks(count: int) -> nn.ModuleList:
            return nn.ModuleList(AttentionBlock(dim, num_heads, ffn, dropout) for _ in range(count))

        self.id_linear = nn.Linear(dim, dim)
        self.cloth_linear = nn.Linear(dim, dim)
        self.id_self = blocks(self_layers)
        self.cloth_self = blocks(self_layers)
        self.id_cross = blocks(cross_layers)
        self.cloth_cross = blocks(cross_layers)
        self.gate = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.Sigmoid())

    def forward(
        self, tokens: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`tokens` `[B, L, dim]` (CLS included); `mask` `[B, L]`, true for real tokens, false for padding."""
        if tokens.dim() != 3:
            raise ValueError(f"tokens must be [batch, length, dim], got shape {list(tokens.shape)}")
        if mask is not None:
            mask = mask.bool()
            if not mask.any(dim=1).all():
                raise ValueError("every sample needs at least one unmasked token")

        identity, clothing = self.id_linear(tokens), self.cloth_linear(tokens)
        for id_block, cloth_block in zip(self.id_self, self.cloth_self, strict=True):
            identity = id_block(identity, identity, mask)
            clothing = cloth_block(clothing, clothing, mask)
        for id_block, cloth_block in zip(self.id_cross, self.cloth_cross, strict=True):
            # Both directions read the previous layer's states: the update is symmetric.
            identity, clothing = id_block(identity, clothing, mask), cloth_block(clothing, identity, mask)

        identity, clothing = masked_mean(identity, mask), masked_mean(clothing, mask)
        gate = self.gate(torch.cat([identity, clothing], dim=-1))
        return gate * identity, (1 - gate) * clothing, gate
