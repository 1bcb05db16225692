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

    With `look_alike_group` g > 1 and `neighbours` (each person's look-alikes, `nearest_persons`), a
    round's persons are dealt into batches in groups of g: a person drawn at random and the g - 1 first
    of its look-alikes still free in that round (persons drawn at random where none is left), so that
    each batch holds P / g sets of persons the losses must tell apart by more than their obvious words.

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
        look_alike_group: int = 1,
        neighbours: np.ndarray | None = None,
    ) -> None:
        if persons_per_batch < 1 or instances_per_person < 1:
            raise ValueError("persons_per_batch and instances_per_person must be positive")
        if persons_per_batch % num_replicas or not 0 <= rank < num_replicas:
            raise ValueError(
                f"need 0 <= rank < num_replicas dividing persons_per_batch, got rank {rank}, "
                f"num_replicas {num_replicas}, persons_per_batch {persons_per_batch}"
            )
        if look_alike_group > 1 and (neighbours is None or persons_per_batch % look_alike_group):
            raise ValueError(
                f"look_alike_group {look_alike_group} needs the persons' neighbours and must divide "
                f"persons_per_batch ({persons_per_batch})"
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
        self.look_alike_group = look_alike_group
        self.neighbours = neighbours
        if neighbours is not None and len(neighbours) != persons:
            raise ValueError(f"neighbours has {len(neighbours)} rows for {persons} persons")
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
        persons_in: list[list[int]] = []
        for person, indices in enumerate(self.indices_by_person):
            if len(indices) < per_person:
                drawn = rng.choice(indices, per_person)
            else:
                drawn = rng.permutation(indices)[: len(indices) // per_person * per_person]
            for round_index, group in enumerate(drawn.reshape(-1, per_person)):
                if round_index == len(rounds):
                    rounds.append([])
                    persons_in.append([])
                rounds[round_index].append(group)
                persons_in[round_index].append(person)

        batches = []
        for groups, persons in zip(rounds, persons_in, strict=True):
            order = self._deal(np.array(persons), rng)
            for start in range(0, len(groups) - per_batch + 1, per_batch):
                batches.append(np.concatenate([groups[i] for i in order[start : start + per_batch]]))
        share = per_batch * per_person // self.num_replicas
        for position in rng.permutation(len(batches)):
            yield batches[position][self.rank * share : (self.rank + 1) * share].tolist()

    def _deal(self, persons: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An order of a round's groups (positions in `persons`): at random, or in runs of look-alikes."""
        if self.look_alike_group == 1:
            return rng.permutation(len(persons))
        position = np.full(len(self.indices_by_person), -1)
        position[persons] = np.arange(len(persons))  # -1: not in this round, or dealt already
        order: list[int] = []
        for seed in rng.permutation(persons):
            if position[seed] < 0:
                continue
            run = [seed, *(other for other in self.neighbours[seed] if position[other] >= 0)]
            run = run[: self.look_alike_group]
            position_of_run = position[run]
            position[run] = -1
            if len(run) < self.look_alike_group:  # no look-alike left in this round: anyone free
                free = np.flatnonzero(position >= 0)
                extra = rng.choice(free, min(self.look_alike_group - len(run), len(free)), replace=False)
                position_of_run = np.concatenate([position_of_run, position[extra]])
                position[extra] = -1
            order.extend(position_of_run.tolist())
        return np.array(order)
