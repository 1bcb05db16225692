"""The training engine: one experiment in one run folder, resumable, logged, validated."""

from __future__ import annotations

import csv
import io
import json
import random
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from disreid.config import ExperimentConfig
from disreid.data import CaptionPairs, IdentityBatchSampler, ImageRecord, build_transforms, load_records
from disreid.data.checks import check_records
from disreid.evaluation import too_few_persons
from disreid.evaluation.metrics import SUMMARY_METRICS
from disreid.evaluation.protocols import embed_split, standard_protocol
from disreid.io import atomic_write_text
from disreid.losses import AdvancedLoss
from disreid.model import DisReID, build_model
from disreid.model.transfer import start_from
from disreid.training import distributed
from disreid.training.checkpoint import (
    BEST,
    CONFIG_FILE,
    LAST,
    MODEL_DIR,
    has_checkpoint,
    load_checkpoint,
    save_checkpoint,
    set_rng_state,
    trained_model_dir,
)
from disreid.training.optim import build_optimizer, build_scheduler

LOGS = ("metrics.csv", "validation.csv")


def resolve_device(name: str) -> torch.device:
    """`auto` (CUDA when available), `cpu`, `cuda` or `cuda:N`, refused at once where it does not exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device {name!r}: use auto, cpu or cuda") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available here: use auto or cpu")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def swap_clothing_captions(
    captions: list[str], outfit_ids: torch.Tensor, probability: float, generator: torch.Generator
) -> tuple[list[str], torch.Tensor]:
    """Replace some clothing captions by the caption of another outfit in the batch; `is_matched` marks
    which were kept. These deliberate mismatches are the hard negatives of `cloth_match`."""
    matched = torch.ones(len(captions), dtype=torch.long)
    swapped = list(captions)
    for i in torch.nonzero(torch.rand(len(captions), generator=generator) < probability).flatten().tolist():
        others = torch.nonzero(outfit_ids != outfit_ids[i]).flatten()
        if len(others):
            swapped[i] = captions[others[torch.randint(len(others), (1,), generator=generator)].item()]
            matched[i] = 0
    return swapped, matched


def hide_words(texts: list[str], probability: float, unknown: str, generator: torch.Generator) -> list[str]:
    """Each word swapped for the `unknown` token with `probability`, and the token slipped in before a word
    with `probability`. Real queries hold words a word-level vocabulary lacks; a model that met the
    unknown token in training reads past it instead of being thrown by a vector it never learnt."""
    hidden = []
    for text in texts:
        words = []
        for word in text.split(" "):
            swap, insert = (torch.rand(2, generator=generator) < probability).tolist()
            words += [unknown] * insert + [unknown if swap else word]
        hidden.append(" ".join(words))
    return hidden


class Trainer:
    """Trains `config` in `run_dir`. The folder holds the resolved config, `last/` (written atomically
    after every epoch, for `--resume`), `best/` (the best model by the validation metric
    `train.select_by`), `metrics.csv`, `validation.csv` and TensorBoard event files.

    Under `torchrun` every rank trains its share of each batch in DistributedDataParallel and the losses
    see the global batch (see `distributed`); the first rank alone validates, while the others wait, and
    writes the run folder.
    """

    def __init__(self, config: ExperimentConfig, run_dir: str | Path, *, resume: bool = False) -> None:
        config.check()
        self.config = config
        self.run_dir = Path(run_dir)
        config.data.root = str(Path(config.data.root).resolve())  # saved: the run finds it from any folder
        self.device = resolve_device(config.train.device)
        self.world_size, self.is_main = distributed.world_size(), distributed.rank() == 0
        self._check_run_dir(resume)
        distributed.barrier()  # every rank has seen the folder before the first writes to it
        seed_everything(config.train.seed)

        def records(split: str) -> list[ImageRecord]:
            return check_records(load_records(config.data, split), config.data.bad_records, split)

        with distributed.main_rank_first():  # a missing SynthPedes is made by one rank, not raced
            train_records = [r for split in config.data.train_splits for r in records(split)]
            self.val_records = records("val") if config.train.eval_every else []
        if self.is_main and (warning := too_few_persons(self.val_records, "val")) and self.val_records:
            print(f"warning: {warning}; the best model is picked by them", flush=True)
        person_ids = sorted({record.person_id for record in train_records})
        self.label_of = {person_id: index for index, person_id in enumerate(person_ids)}

        state: dict[str, Any] = {}
        if resume:
            self.model, state = load_checkpoint(self.run_dir / LAST)
            self._check_resumable(config)
        else:
            if config.model.num_classes == 0 and config.loss.cls:
                config.model.num_classes = len(person_ids)
            texts = [text for record in train_records for text in record.captions]
            self.model = build_model(config.model, texts)
            if config.train.init_from:
                self._start_from(Path(config.train.init_from))
        self.model.to(self.device)
        self.network = distributed.wrap_model(self.model)  # what the training step calls

        transform = build_transforms(
            config.model.image_size,
            train=True,
            mean=config.data.mean,
            std=config.data.std,
            flip=config.data.flip,
            crop_padding=config.data.crop_padding,
            erasing_prob=config.data.erasing_prob,
        )
        self.dataset = CaptionPairs(train_records, transform, config.data.cache_images)
        self.sampler = IdentityBatchSampler(
            self.dataset.person_ids,
            config.data.persons_per_batch,
            config.data.instances_per_person,
            seed=config.train.seed,
            num_replicas=self.world_size,
            rank=distributed.rank(),
        )
        self.loader = DataLoader(
            self.dataset,
            batch_sampler=self.sampler,
            num_workers=config.data.num_workers,
            persistent_workers=config.data.num_workers > 0,
        )
        self.loss_fn = AdvancedLoss(
            config.loss,
            config.train.temperature,
            config.train.hsic_kernel,
            config.model.embed_dim,
            config.train.decorrelation,
        ).to(self.device)
        self.optimizer = build_optimizer(self.model, config.train)
        self.scheduler = build_scheduler(self.optimizer, config.train, len(self.sampler))
        self.epoch, self.step, self.best = 0, 0, -1.0
        self.swap_generator = torch.Generator().manual_seed(config.train.seed)
        if state:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.swap_generator.set_state(state["swap_generator"])
            if "loss" in state:  # checkpoints from before the loss kept running statistics have none
                self.loss_fn.load_state_dict(state["loss"])
            self.epoch, self.step, self.best = state["epoch"], state["step"], state["best"]
            set_rng_state(state["rng"])
        self._writer = None
        if self.is_main:  # before the first step: a folder that cannot be written to stops the run here
            self.run_dir.mkdir(parents=True, exist_ok=True)
            config.save(self.run_dir / CONFIG_FILE)
            if resume:
                self._forget_logs_after(self.step)
            # A resumed run's events after the checkpoint are dropped from TensorBoard's view as well.
            self._writer = _tensorboard(self.run_dir / "tensorboard", self.step + 1 if resume else None)

    def _start_from(self, source: Path) -> None:
        """Copy the weights of a trained model (or a run folder's best model) that fit this run's model."""
        model_dir = trained_model_dir(source) if (source / CONFIG_FILE).is_file() else source
        transfer = start_from(self.model, DisReID.from_pretrained(model_dir), str(model_dir))
        if self.is_main:
            print(f"started from {model_dir}: {transfer}", flush=True)

    def _check_run_dir(self, resume: bool) -> None:
        """One run per folder: a new run into a folder that holds anything is refused (its logs would be
        mixed with the old run's, its best/ replaced), and a resume needs a checkpoint."""
        if resume:
            if not has_checkpoint(self.run_dir / LAST):
                raise FileNotFoundError(
                    f"{self.run_dir} has no checkpoint to resume ({LAST}/ is written at the end of each "
                    "epoch): train into another folder, or delete this one"
                )
        elif self.run_dir.exists() and any(self.run_dir.iterdir()):
            raise ValueError(
                f"{self.run_dir} already holds a run: resume it (--resume) or train into another folder "
                "(--out)"
            )

    def _forget_logs_after(self, step: int) -> None:
        """Drop the log rows written after the checkpoint, which training now repeats, and a row that a
        kill cut short."""
        for name in LOGS:
            path = self.run_dir / name
            if not path.is_file():
                continue
            with path.open(newline="") as handle:
                reader = csv.DictReader(handle)
                fields = reader.fieldnames or []
                rows = [row for row in reader if None not in row.values() and int(row["step"]) <= step]
            with io.StringIO() as text:
                writer = csv.DictWriter(text, fieldnames=fields)
                writer.writeheader()
                writer.writerows(rows)
                atomic_write_text(path, text.getvalue())

    def _check_resumable(self, config: ExperimentConfig) -> None:
        """The checkpoint's architecture must be the one asked for; fields left unset are not compared."""
        saved = self.model.config.to_dict()
        ignored = ("image_encoder", "text_encoder", "num_classes")
        changed = [
            k
            for k, v in config.model.to_dict().items()
            if k not in ignored and v is not None and saved[k] != v
        ]
        if changed:
            raise ValueError(
                f"cannot resume: the model config differs from the checkpoint in {', '.join(changed)}"
            )
        config.model = self.model.config

    # -------------------------------------------------------------------------------------- loop
    def fit(self, until_epoch: int | None = None) -> float:
        """Train up to `until_epoch` (default: all epochs) and return the best validation score
        (`train.select_by`)."""
        last_epoch = min(self.config.train.epochs, until_epoch or self.config.train.epochs)
        while self.epoch < last_epoch:
            self._train_epoch()
            self.epoch += 1
            every = self.config.train.eval_every
            if (
                every
                and self.val_records
                and (self.epoch % every == 0 or self.epoch == self.config.train.epochs)
            ):
                self._validate()
            self._save()
            distributed.barrier()  # the other ranks wait while the first validates and saves
        if self.best < 0 and self.is_main:  # never validated: the last model is the one to use
            self.model.save_pretrained(self.run_dir / BEST / MODEL_DIR)
        self._writer and self._writer.flush()
        return self.best

    def _train_epoch(self) -> None:
        config = self.config
        self.model.train()
        self.sampler.set_epoch(self.epoch)
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if config.train.amp and self.device.type == "cuda"
            else nullcontext()
        )
        weights = asdict(self.loss_fn.weights)
        uses_identity = self.loss_fn.weights.use_identity_captions
        uses_clothing = self.loss_fn.weights.use_clothing_captions
        description = f"{self.run_dir.name} epoch {self.epoch + 1}/{config.train.epochs}"
        progress = tqdm(self.loader, desc=description, leave=False, disable=not self.is_main)
        for batch in progress:
            person_ids = batch["person_id"].to(self.device)
            outfit_ids = batch["outfit_id"].to(self.device)
            # Caption parts that no weighted loss term reads are not encoded (the baseline's case).
            identity_captions = list(batch["identity_caption"]) if uses_identity else None
            clothing_captions = list(batch["clothing_caption"]) if uses_clothing else None
            is_matched = None
            if uses_clothing and config.data.mismatch_prob > 0:
                clothing_captions, is_matched = swap_clothing_captions(
                    clothing_captions, batch["outfit_id"], config.data.mismatch_prob, self.swap_generator
                )
                is_matched = is_matched.to(self.device)
            captions = list(batch["caption"])
            if config.data.unknown_word_prob > 0:
                unknown, hiding = self.model.tokenizer.unk_token, config.data.unknown_word_prob
                captions, identity_captions, clothing_captions = (
                    None if texts is None else hide_words(texts, hiding, unknown, self.swap_generator)
                    for texts in (captions, identity_captions, clothing_captions)
                )
            labels = torch.tensor([self.label_of[int(p)] for p in batch["person_id"]], device=self.device)
            with autocast:
                output = self.network(
                    batch["pixels"].to(self.device), captions, identity_captions, clothing_captions
                )
                # The losses see the global batch, gathered from every rank (a no-op in one process).
                output, person_ids, labels, outfit_ids, is_matched = map(
                    distributed.all_gather_with_grad, (output, person_ids, labels, outfit_ids, is_matched)
                )
                losses = self.loss_fn(output, person_ids, labels, outfit_ids, is_matched, epoch=self.epoch)
            self.optimizer.zero_grad(set_to_none=True)
            (losses["total"] * self.world_size).backward()  # DDP averages gradients over the ranks
            if config.train.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.train.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            values = {key: value.item() for key, value in losses.items()}
            progress.set_postfix({k: f"{v:.3f}" for k, v in values.items() if k == "total" or weights[k]})
            if self.step % config.train.log_every == 0 or self.step == 1:
                self._log(
                    "metrics.csv",
                    {
                        "step": self.step,
                        "epoch": self.epoch + 1,
                        "lr": self.scheduler.get_last_lr()[0],
                        **values,
                    },
                    "train",
                )

    @torch.no_grad()
    def _validate(self) -> None:
        if not self.is_main:
            return
        transform = build_transforms(
            self.config.model.image_size, train=False, mean=self.config.data.mean, std=self.config.data.std
        )
        embedded = embed_split(self.model, self.val_records, transform, device=self.device)
        metrics = standard_protocol(embedded)["full"]
        row = {
            "epoch": self.epoch,
            "step": self.step,
            **{k: metrics[k] for k in SUMMARY_METRICS},
        }
        self._log("validation.csv", row, "val")
        scores = f"validation R@1 {metrics['R1']:.2f}  mAP {metrics['mAP']:.2f}"
        tqdm.write(f"{self.run_dir.name} epoch {self.epoch}: {scores}")
        if metrics[self.config.train.select_by] > self.best:
            self.best = metrics[self.config.train.select_by]
            self.model.save_pretrained(self.run_dir / BEST / MODEL_DIR)
            atomic_write_text(self.run_dir / BEST / "metrics.json", json.dumps(row, indent=2) + "\n")

    def _save(self) -> None:
        if not self.is_main:
            return
        save_checkpoint(
            self.run_dir / LAST,
            self.model,
            {
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "swap_generator": self.swap_generator.get_state(),
                "loss": self.loss_fn.state_dict(),
                "epoch": self.epoch,
                "step": self.step,
                "best": self.best,
            },
        )

    def _log(self, filename: str, row: dict[str, float], prefix: str) -> None:
        if not self.is_main:
            return
        path = self.run_dir / filename
        new = not path.exists()
        with path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        if self._writer:
            for key, value in row.items():
                if key not in ("step", "epoch"):
                    self._writer.add_scalar(f"{prefix}/{key}", value, row["step"])


def _tensorboard(directory: Path, purge_step: int | None):
    """A TensorBoard writer, or None where tensorboard is not installed. Events from `purge_step` on,
    left by a run that was killed, are dropped."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(directory), purge_step=purge_step)
