"""Data-parallel training on the CPU with gloo: two processes on a global batch train like one process."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from disreid.cli import main
from disreid.data import DataConfig, load_records
from disreid.training import distributed

SETTINGS = [  # cuhk_pedes.yaml on a tiny CLIP, without the random augmentations, which differ per process
    "model.image_size=[32, 16]", "model.embed_dim=16", "model.num_heads=4", "model.self_layers=1",
    "model.cross_layers=1", "data.persons_per_batch=4", "data.instances_per_person=2", "data.num_workers=0",
    "data.flip=false", "data.crop_padding=0", "data.erasing_prob=0", "train.epochs=2", "train.lr=1e-3",
    "train.warmup_epochs=0.5", "train.log_every=1", "train.device=cpu",
]  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")


def read_csv(path: Path) -> list[dict[str, float]]:
    with path.open() as handle:
        return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def test_two_processes_train_like_one(cuhk_pedes_root, clip_checkpoint, tmp_path):
    sets = [f"data.root={cuhk_pedes_root}", f"model.checkpoint={clip_checkpoint}", *SETTINGS]
    arguments = ["train", "--config", "cuhk_pedes", *(arg for value in sets for arg in ("--set", value))]
    assert main([*arguments, "--out", str(tmp_path / "one")]) == 0
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    launched = subprocess.run(
        [*torchrun, "-m", "disreid.cli", *arguments, "--out", str(tmp_path / "two")],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert launched.stdout.count("best validation R1") == 1  # the first rank alone reports

    for name in ("metrics.csv", "validation.csv"):
        one, two = read_csv(tmp_path / "one" / name), read_csv(tmp_path / "two" / name)
        assert len(one) == len(two) > 1
        for row_one, row_two in zip(one, two, strict=True):
            assert row_one.keys() == row_two.keys()
            for key in row_one:  # equal up to float sums taken in another order (the loss totals reach ~75)
                same = pytest.approx(row_one[key], rel=1e-5, abs=1e-4)
                assert row_two[key] == same, (name, key, row_one["step"])
    steps = read_csv(tmp_path / "one" / "metrics.csv")
    assert steps[0]["total"] - steps[-1]["total"] > 0.1  # the model changed: equal losses mean equal updates


def _worker(rank: int, world: int, init_file: str, work: Callable[..., Any], out: str, *args: Any) -> None:
    """One rank of two, joined through a file: saves what `work(rank, world, *args)` gives to `out.RANK`."""
    dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world, timeout=timedelta(seconds=60)
    )
    try:
        torch.save(work(rank, world, *args), f"{out}.{rank}")
    finally:  # after the DDP model is gone: destroying the group under a live one can hang at exit
        dist.destroy_process_group()


def run_two_ranks(tmp_path: Path, work: Callable[..., Any], *args: Any) -> list[Any]:
    """What `work` gives on each of two ranks of a gloo group."""
    out = tmp_path / "out"
    workers = mp.spawn(_worker, args=(2, str(tmp_path / "init"), work, str(out), *args), nprocs=2, join=False)
    deadline = time.monotonic() + 120
    while not workers.join(timeout=1):  # False while a rank runs; raises where one failed
        if time.monotonic() > deadline:  # a hung collective fails this test, not the whole run
            for process in workers.processes:
                process.kill()
            pytest.fail("the two ranks did not finish within 120 s")
    return [torch.load(f"{out}.{rank}") for rank in range(2)]


def _rank_gradients(rank: int, world: int, features: torch.Tensor) -> list[torch.Tensor]:
    """This rank's half of the batch through a shared linear layer in DDP, a loss of the gathered batch."""
    torch.manual_seed(0)
    layer = distributed.wrap_model(torch.nn.Linear(4, 3))
    gathered = distributed.all_gather_with_grad(layer(features.chunk(world)[rank]))
    (_batch_loss(gathered) * world).backward()
    return [parameter.grad for parameter in layer.parameters()]


def _batch_loss(embeddings: torch.Tensor) -> torch.Tensor:
    """Couples every pair of samples, as InfoNCE and HSIC do."""
    return torch.logsumexp(embeddings @ embeddings.t(), dim=1).mean() + embeddings.mean(0).square().sum()


def test_gathered_loss_gives_the_single_process_gradient(tmp_path):
    features = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
    first_rank, _ = run_two_ranks(tmp_path, _rank_gradients, features)
    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 3)
    _batch_loss(layer(features)).backward()
    for expected, actual in zip((p.grad for p in layer.parameters()), first_rank, strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def _read_synthpedes(rank: int, world: int, root: str) -> list[str]:
    with distributed.main_rank_first():
        records = load_records(DataConfig(dataset="synthpedes", root=root, synth_persons=8), "train")
    return [caption for record in records for caption in record.captions]


def test_a_missing_synthpedes_is_made_once_when_two_ranks_start(tmp_path):
    """Both ranks of a torchrun read the data set at once: without the first making it alone, the
    second cleared the first's half-made folder (the staging folder of one save at a time)."""
    first, second = run_two_ranks(tmp_path, _read_synthpedes, str(tmp_path / "synthpedes"))
    assert first == second and len(first) > 8


def test_single_process_helpers_are_no_ops():
    tensor = torch.ones(2, requires_grad=True)
    assert distributed.all_gather_with_grad(tensor) is tensor
    assert distributed.all_gather_with_grad(None) is None
    assert (distributed.world_size(), distributed.rank()) == (1, 0)
    model = torch.nn.Linear(2, 2)
    assert distributed.wrap_model(model) is model
    with distributed.process_group(torch.device("cpu")):  # WORLD_SIZE unset: nothing to join
        assert not dist.is_initialized()
