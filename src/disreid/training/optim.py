"""AdamW with one learning rate for pretrained encoders and another for new layers; warm-up then cosine."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.optim.lr_scheduler import LambdaLR

from disreid.config import TrainConfig
from disreid.model import DisReID


def build_optimizer(model: DisReID, config: TrainConfig) -> torch.optim.AdamW:
    """Every trainable parameter of the model, and nothing else, goes to the optimizer.

    Biases and normalisation weights (1-D tensors) are not decayed. With a pretrained backbone the new
    layers (DisentangleModule, heads) learn `new_layer_lr_factor` times faster than the parts the
    checkpoint provides (`model.pretrained_parts`: the encoders, and CLIP's projections).
    """
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            key = (name.split(".")[0] in model.pretrained_parts, parameter.dim() >= 2)
            groups.setdefault(key, []).append(parameter)
    param_groups = [
        {
            "params": params,
            "lr": config.lr * (1.0 if pretrained else config.new_layer_lr_factor),
            "weight_decay": config.weight_decay if decayed else 0.0,
            "pretrained": pretrained,  # build_scheduler holds these back for `frozen_epochs`
        }
        for (pretrained, decayed), params in sorted(groups.items())
    ]
    return torch.optim.AdamW(param_groups)


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int) -> LambdaLR:
    """Linear warm-up from 10 % of each group's rate over `warmup_epochs`, then cosine decay to 0.

    The pretrained groups stay at rate 0 for `frozen_epochs` and then warm up and decay over the steps
    left, so that the new layers first learn on the checkpoint's features rather than pull them, still
    random themselves, away from what the checkpoint learnt (linear probing, then fine-tuning).
    """
    total = max(1, config.epochs * steps_per_epoch)
    frozen = min(total, round(config.frozen_epochs * steps_per_epoch))

    def schedule(start: int) -> Callable[[int], float]:
        warmup = min(total - start, round(config.warmup_epochs * steps_per_epoch))

        def factor(step: int) -> float:
            step -= start
            if step < 0:
                return 0.0
            if step < warmup:
                return 0.1 + 0.9 * step / warmup
            progress = (step - warmup) / max(1, total - start - warmup)
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

        return factor

    starts = [frozen if group.get("pretrained") else 0 for group in optimizer.param_groups]  # any optimizer
    return LambdaLR(optimizer, [schedule(start) for start in starts])
