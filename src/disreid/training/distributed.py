"""Data-parallel training on several GPUs or machines, launched by `torchrun`.

Each rank takes its share of every global P×K batch (`IdentityBatchSampler(num_replicas, rank)`), and
the losses are computed on the global batch, gathered from every rank, as IRRA and CLIP do: the
contrastive terms see every other sample of the global batch as a candidate and HSIC its statistics,
so N processes train exactly like one process with the whole batch.
"""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

T = TypeVar("T")


@contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    """Join the process group that `torchrun` describes in the environment (RANK, WORLD_SIZE,
    LOCAL_RANK, MASTER_ADDR, MASTER_PORT) for the duration of the block: nccl with one GPU per local
    rank when training on CUDA, gloo on CPUs. Without torchrun (WORLD_SIZE unset or 1) it does nothing."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        gc.collect()  # free released DDP models first: destroying the group under a live one can hang
        dist.destroy_process_group()


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def barrier() -> None:
    """Wait for every rank (no-op in a single process)."""
    if dist.is_initialized():
        dist.barrier()


@contextmanager
def main_rank_first() -> Iterator[None]:
    """Run the block on the first rank, then on the others (as transformers' `main_process_first`):
    what it makes on disk, such as a SynthPedes set generated on first use, is made once, and read whole."""
    if rank() != 0:
        barrier()
    yield
    if rank() == 0:
        barrier()


def wrap_model(model: nn.Module) -> nn.Module:
    """`model` in DistributedDataParallel across the ranks, or `model` itself in a single process.

    Unused parameters are allowed: a loss term switched off (weight 0, e.g. in an ablation) leaves its
    head without a gradient, which DDP would otherwise take for a bug.
    """
    if world_size() == 1:
        return model
    device = next(model.parameters()).device
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=True)


def all_gather_with_grad(value: T) -> T:
    """Every rank's `value` concatenated along dim 0 in rank order: a tensor, None (kept), or a dataclass
    of them (each field gathered). The local part keeps its autograd graph; the other ranks' parts are
    constants, since each rank back-propagates through its own samples. The loss of the gathered batch
    is the same on every rank, so the gradients of the ranks, summed, are the gradient of that loss:
    DDP averages them, so multiply the loss by `world_size()` before `backward`."""
    if value is None or world_size() == 1:
        return value
    if dataclasses.is_dataclass(value):
        gathered = {f.name: all_gather_with_grad(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **gathered)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"cannot gather a {type(value).__name__}")
    parts = [torch.empty_like(value) for _ in range(world_size())]
    dist.all_gather(parts, value.detach().contiguous())
    parts[rank()] = value
    return torch.cat(parts)
