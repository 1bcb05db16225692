"""Identity-balanced P×K batches, the sampling that identity-aware contrastive losses need."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler


class IdentityBatchSampler(Sampler[list[int]]):
    """Batches of dataset indices holding P distinct persons with K samples each.

    Each epoch deals every person's samples, shuffled, into groups of K (a person with fewer than
    K gets one group drawn with replacement). Round r holds every person's r-th group and is cut
    into batches of P groups, so no batch repeats a person and almost every sample is seen once per
    epoch: only the last < P groups of a round and a person's last < K samples wait for another
    shuffle. The batches are then shuffled, so that the persons with the most samples do not fill
    the end of the epoch on their own. The draws depend on (seed, epoch) alone: call `set_epoch`.

    With `num_replicas` > 1 every rank draws the same global batches and takes its own contiguous
    share of P / num_replicas persons from each.
    """

    def __init__(
        self,
        person_ids: Sequence[int],
        persons_per_batch: int,
        instances_per_person: int,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if persons_per_batch < 1 or instances_per_person < 1:
            raise ValueError("persons_per_batch and instances_per_person must be positive")
        if persons_per_batch % num_replicas or not 0 <= rank < num_replicas:
            raise ValueError(
                f"need 0 <= rank < num_replicas dividing persons_per_batch, got rank {rank}, "
                f"num_replicas {num_replicas}, persons_per_batch {persons_per_batch}"
            )
        pids = np.asarray(person_ids)
        order = np.argsort(pids, kind="stable")
        boundaries = np.flatnonzero(np.diff(pids[order])) + 1
        self.indices_by_person = np.split(order, boundaries) if len(order) else []
        persons = len(self.indices_by_person)
        if persons < persons_per_batch:
            raise ValueError(f"{persons} persons cannot fill a batch of {persons_per_batch} distinct ones")
        self.persons_per_batch = persons_per_batch
        self.instances_per_person = instances_per_person
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0

        sizes = np.array([len(indices) for indices in self.indices_by_person])
        groups = np.maximum(1, sizes // instances_per_person)
        persons_in_round = (groups[:, None] > np.arange(groups.max())).sum(0)
        self.num_batches = int((persons_in_round // persons_per_batch).sum())

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng((self.seed, self.epoch))
        per_batch, per_person = self.persons_per_batch, self.instances_per_person
        rounds: list[list[np.ndarray]] = []
        for indices in self.indices_by_person:
            if len(indices) < per_person:
                drawn = rng.choice(indices, per_person)
            else:
                drawn = rng.permutation(indices)[: len(indices) // per_person * per_person]
            for round_index, group in enumerate(drawn.reshape(-1, per_person)):
                if round_index == len(rounds):
                    rounds.append([])
                rounds[round_index].append(group)

        batches = []
        for groups in rounds:
            order = rng.permutation(len(groups))
            for start in range(0, len(groups) - per_batch + 1, per_batch):
                batches.append(np.concatenate([groups[i] for i in order[start : start + per_batch]]))
        share = per_batch * per_person // self.num_replicas
        for position in rng.permutation(len(batches)):
            yield batches[position][self.rank * share : (self.rank + 1) * share].tolist()
