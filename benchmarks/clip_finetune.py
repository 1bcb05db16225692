"""The pretrained-CLIP path end to end, with nothing to download.

1. Pretrain a small Hugging Face `CLIPModel` contrastively (full captions, CLIP's own loss and learned
   logit scale, no identity labels) on SynthPedes persons drawn with another seed than the quickstart's,
   and save it with `save_pretrained` beside its word-level tokenizer: a checkpoint folder like any other.
2. Its zero-shot figures on the quickstart's test split, computed with `CLIPModel` alone, and disreid's
   before its first step, which must be the same.
3. For each seed, with the commands a user types (`disreid train`, `disreid evaluate --split test`):
   disreid and the baseline fine-tuned from the checkpoint with `configs/synth_clip.yaml`, and disreid
   from scratch as the quickstart trains it (`synth_tiny.yaml`, the same steps); for the first seed also
   the same CLIP with random weights at the rate from scratch. Every protocol and mode, with the captions'
   limit and the leakage.

Every stage is kept in --runs: a chain stopped half-way resumes where it stopped.

    python benchmarks/clip_finetune.py --data runs/quickstart/synthpedes                # one seed
    python benchmarks/clip_finetune.py --data runs/quickstart/synthpedes --seeds 0 1 2 --jobs 2
    python benchmarks/clip_finetune.py --quick   # a few steps of each stage, on 16 persons (the test)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from transformers import CLIPConfig, CLIPModel

sys.path.insert(0, str(Path(__file__).parent))
import _runs  # noqa: E402
from _timing import save  # noqa: E402
from disreid.config import DataConfig, ExperimentConfig, TrainConfig, load_config  # noqa: E402
from disreid.data import CaptionPairs, CaptionQueries, GalleryImages, build_transforms, load_records  # noqa: E402
from disreid.evaluation import evaluate  # noqa: E402
from disreid.evaluation.oracle import captions_limit  # noqa: E402
from disreid.evaluation.protocols import (  # noqa: E402
    QUERY_FIELDS,
    clothes_changing_protocol,
    labelled_split,
    standard_protocol,
)
from disreid.losses import LOSS_KEYS  # noqa: E402
from disreid.model import build_model  # noqa: E402
from disreid.model.tokenizer import build_word_tokenizer  # noqa: E402
from disreid.training.checkpoint import LAST, trainer_state  # noqa: E402
from disreid.training.optim import build_scheduler  # noqa: E402

FINETUNE_CONFIG = "synth_clip"
# synth_baseline.yaml's: no DisentangleModule, identity-aware InfoNCE and classification only. Every other
# term is switched off, not only the design's: the recipe's text decorrelation would otherwise hold the
# baseline's one embedding away from both parts of its own caption.
BASELINE_TERMS = ("info_nce", "cls")
BASELINE = [
    "model.disentangle=false",
    *(f"loss.{term}=0" for term in LOSS_KEYS if term not in BASELINE_TERMS),
]
SCRATCH_CONFIG = "synth_tiny"  # the quickstart's disreid, trained from scratch
# synth_tiny.yaml's rate for models from scratch, and nothing frozen: random weights are no features to probe
RANDOM_START = ["train.lr=1e-3", "train.new_layer_lr_factor=1", "train.frozen_epochs=0"]
PROTOCOLS = ("standard", "clothes_changing")


@dataclass
class Scale:
    """Sizes of one run of the chain."""

    pretrain_persons: int
    pretrain_steps: int
    batch_size: int
    vision: dict
    text: dict
    projection_dim: int
    finetune: list[str] = field(default_factory=list)  # overrides of synth_clip.yaml
    pretrain_lr: float = 1e-3  # 5e-4 before: zero-shot full R@1 61.81 against 63.82 at 1e-3 (FULL)


FULL = Scale(
    # Zero-shot full-mode R@1 on the quickstart's test split (limit 99.46): 25.49 after 1,000 steps on
    # 1,000 persons, 55.69 after 3,000 steps on 2,000 with a vision tower 64 wide, 61.81 128 wide, 63.82 128
    # wide at a rate of 1e-3 instead of 5e-4; 61.46 on 4,000 persons at 5e-4; 72.71 after 4,500 steps, which
    # lifted fine-tuned full R@1 but not identity, for 3.7 minutes more (benchmarks/README.md).
    pretrain_persons=2000,
    pretrain_steps=3000,
    batch_size=64,
    # Patch 16 at 128×64 is an 8×4 grid, interpolated from the 4×4 of the checkpoint's own 64×64, as
    # ViT-B/16's 14×14 is to 24×8 at 384×128. 128 wide, each 768-value patch is embedded in twice the
    # width of 64, which lifted fine-tuned identity R@1 on validation from 42.2 to 46.2.
    vision={"image_size": 64, "patch_size": 16, "hidden_size": 128, "num_hidden_layers": 3,
            "num_attention_heads": 4, "intermediate_size": 512},
    text={"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 256},
    projection_dim=64,
)  # fmt: skip
QUICK = Scale(
    pretrain_persons=16,
    pretrain_steps=2,
    batch_size=8,
    vision={"image_size": 16, "patch_size": 8, "hidden_size": 32, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 64},
    text={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64},
    projection_dim=16,
    finetune=["train.epochs=1", "model.image_size=[32, 16]", "data.synth_persons=16",
              "data.synth_split=[0.6, 0.1, 0.3]", "data.persons_per_batch=4", "data.instances_per_person=2"],
)  # fmt: skip


# ------------------------------------------------------------------------------------------- 1. pretrain
def pretraining_records(root: Path, data: DataConfig, persons: int, seed: int) -> list:
    """Every image of a SynthPedes population of its own (drawn with `seed`), whatever its split."""
    data = replace(data, root=str(root), synth_persons=persons, synth_seed=seed, synth_split=(0.8, 0.1, 0.1))
    return [record for split in ("train", "val", "test") for record in load_records(data, split)]


def new_clip(scale: Scale, texts: list[str]) -> tuple[CLIPModel, object]:
    """A CLIP of `scale`'s size with random weights, and a word-level tokenizer of `texts`.

    The tokenizer reads `[CLS] words [SEP]`: [SEP] is CLIP's end-of-text token, whose state CLIP pools.
    """
    tokenizer = build_word_tokenizer(texts)
    text = {
        **scale.text,
        "vocab_size": len(tokenizer),
        "max_position_embeddings": 77,
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    config = CLIPConfig(text_config=text, vision_config=scale.vision, projection_dim=scale.projection_dim)
    return CLIPModel(config), tokenizer


def pretrain_clip(records: list, scale: Scale, config: ExperimentConfig, out: Path) -> dict:
    """CLIP's contrastive pre-training, `CLIPModel(..., return_loss=True)`, on captions and images alone,
    with the fine-tuning's image size and augmentations."""
    torch.manual_seed(0)
    model, tokenizer = new_clip(scale, [text for record in records for text in record.captions])
    data = config.data
    transform = build_transforms(
        config.model.image_size, train=True, mean=data.mean, std=data.std, crop_padding=data.crop_padding
    )
    loader = DataLoader(
        CaptionPairs(records, transform, cache_images=True),
        batch_size=scale.batch_size,
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(0),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=scale.pretrain_lr, weight_decay=0.1)
    schedule = TrainConfig(epochs=1, warmup_epochs=0.1)
    scheduler = build_scheduler(optimizer, schedule, scale.pretrain_steps)
    model.train()
    step, start, losses = 0, time.perf_counter(), []
    while step < scale.pretrain_steps:
        for batch in loader:
            tokens = tokenizer(list(batch["caption"]), padding=True, return_tensors="pt")
            output = model(
                **tokens, pixel_values=batch["pixels"], return_loss=True, interpolate_pos_encoding=True
            )
            optimizer.zero_grad(set_to_none=True)
            output.loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            losses.append(output.loss.item())
            if step % 100 == 0:
                print(f"pretrain step {step}: loss {sum(losses[-100:]) / 100:.3f}", flush=True)
            if step == scale.pretrain_steps:
                break
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return {
        "steps": step,
        "wall_s": round(time.perf_counter() - start, 1),
        "final_loss": round(sum(losses[-50:]) / len(losses[-50:]), 4),
        "logit_scale": round(model.logit_scale.exp().item(), 3),
    }


def random_clip_like(checkpoint: Path, out: Path) -> None:
    """The same architecture and tokenizer as `checkpoint`, with fresh random weights."""
    from transformers import AutoTokenizer

    torch.manual_seed(1)
    CLIPModel(CLIPConfig.from_pretrained(checkpoint)).save_pretrained(out)
    AutoTokenizer.from_pretrained(checkpoint).save_pretrained(out)


# -------------------------------------------------------------------------------------------- 2. step 0
@torch.no_grad()
def zero_shot(checkpoint: Path, records: list, config: ExperimentConfig) -> dict:
    """Every protocol and mode of the CLIP checkpoint alone, through `CLIPModel`, with the captions' limit:
    its one image embedding queried with the whole caption (full), its identity part or its clothing part."""
    from transformers import AutoTokenizer

    model, tokenizer = CLIPModel.from_pretrained(checkpoint).eval(), AutoTokenizer.from_pretrained(checkpoint)
    data = config.data
    gallery = GalleryImages(records, build_transforms(config.model.image_size, False, data.mean, data.std))
    images = torch.cat([
        _features(model.get_image_features(pixel_values=batch["pixels"], interpolate_pos_encoding=True))
        for batch in DataLoader(gallery, batch_size=128)
    ])  # fmt: skip
    images = F.normalize(images, dim=-1)
    texts: dict[str, list[torch.Tensor]] = {mode: [] for mode in QUERY_FIELDS}
    for batch in DataLoader(CaptionQueries(records), batch_size=128):
        for mode, caption in QUERY_FIELDS.items():
            tokens = tokenizer(list(batch[caption]), padding=True, return_tensors="pt")
            texts[mode].append(F.normalize(_features(model.get_text_features(**tokens)), dim=-1))
    texts = {mode: torch.cat(chunks) for mode, chunks in texts.items()}
    split = labelled_split(records, dict.fromkeys(QUERY_FIELDS, images), texts)
    return {
        "standard": standard_protocol(split),
        "clothes_changing": clothes_changing_protocol(split),
        "captions_limit": captions_limit(records),
    }


def _features(output: object) -> torch.Tensor:
    """transformers 4 returns the projected features as a tensor, 5 as the output's `pooler_output`."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


# ------------------------------------------------------------------------------------------- 3. train
def arms(base: list[str], clip_dir: Path, random_dir: Path, seed: int, controls: bool) -> dict:
    """The runs of one seed, each `(config, overrides)`: disreid and the baseline fine-tuned from the
    checkpoint, and disreid from scratch as the quickstart trains it; with `controls`, the same CLIP with
    random weights fine-tuned at the rate from scratch, which tells what the pre-training gives."""
    seeded = [*base, f"train.seed={seed}"]
    finetune = [*seeded, f"model.checkpoint={clip_dir}"]
    runs = {
        "disreid": (FINETUNE_CONFIG, finetune),
        "baseline": (FINETUNE_CONFIG, [*finetune, *BASELINE]),
        "scratch": (SCRATCH_CONFIG, seeded),
    }
    if controls:
        runs["random-clip"] = (FINETUNE_CONFIG, [*seeded, f"model.checkpoint={random_dir}", *RANDOM_START])
    return runs


def summary(run: Path) -> dict:
    """Every protocol and mode of the test split, with the captions' limit, the leakage and the steps."""
    result = _runs.evaluate(run, "test")
    leakage = result["disentanglement"].get("probes", {}).get("leakage", {})
    return {
        "steps": trainer_state(run / LAST)["step"],
        "R1": {f"{protocol} {mode}": scores["R1"] for protocol in PROTOCOLS for mode, scores in
               result[protocol].items()},
        "limit_R1": {f"{protocol} {mode}": scores["R1"] for protocol in PROTOCOLS for mode, scores in
                     result["captions_limit"][protocol].items()},
        "leakage": {direction: row["leakage"] for direction, row in leakage.items()},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps of each stage, on 16 persons")
    parser.add_argument("--runs", type=Path, default=Path("runs/clip-finetune"))
    parser.add_argument("--data", type=Path, help="the quickstart's SynthPedes (default: synth_clip.yaml's)")
    parser.add_argument("--pretrain-seed", type=int, default=1, help="the quickstart's is 0")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="fine-tuning seeds")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained side by side (threads shared)")
    parser.add_argument(
        "--vision", nargs="+", type=_size, default=[], metavar="KEY=INT",
        help="another vision tower, in a fresh --runs: patch_size=8 hidden_size=64 intermediate_size=256",
    )  # fmt: skip
    parser.add_argument(
        "--pretrain-steps", type=int, help="the CLIP's, in a fresh --runs (default 3,000; 2 with --quick)"
    )
    args = parser.parse_args(argv)
    scale, start = QUICK if args.quick else FULL, time.perf_counter()
    scale = replace(
        scale,
        vision={**scale.vision, **dict(args.vision)},
        pretrain_steps=args.pretrain_steps or scale.pretrain_steps,
    )
    runs = args.runs
    data = args.data or Path(load_config(FINETUNE_CONFIG).data.root)
    base = [*scale.finetune, f"data.root={data}"]
    clip_dir, random_dir = runs / "clip", runs / "clip-random"

    config = load_config(FINETUNE_CONFIG, [*base, f"model.checkpoint={clip_dir}"])
    pretraining = clip_dir / "pretraining.json"
    if not pretraining.is_file():  # kept, with the checkpoint: a chain stopped later resumes past it
        persons, seed = scale.pretrain_persons, args.pretrain_seed
        records = pretraining_records(runs / "pretrain-data", config.data, persons, seed)
        figures = pretrain_clip(records, scale, config, clip_dir)
        random_clip_like(clip_dir, random_dir)
        pretraining.write_text(json.dumps({**figures, "persons": persons, "seed": seed}))
    pretrained = json.loads(pretraining.read_text())
    print(f"pretrained CLIP: {pretrained}", flush=True)

    test = load_records(config.data, "test")
    clip_figures = zero_shot(clip_dir, test, config)
    texts = [text for record in load_records(config.data, "train") for text in record.captions]
    step_zero = evaluate(build_model(config.model, texts), test, config.data)["standard"]["full"]
    zero_shot_full = clip_figures["standard"]["full"]["R1"]
    print(f"zero-shot full R@1: CLIPModel {zero_shot_full:.2f}, disreid at step 0 {step_zero['R1']:.2f}")

    jobs = [
        (arm, seed, *run)
        for seed in args.seeds
        for arm, run in arms(base, clip_dir, random_dir, seed, controls=seed == args.seeds[0]).items()
    ]

    def train(job: tuple, threads: int) -> dict:
        arm, seed, config_name, overrides = job
        run = _runs.train(runs / f"{arm}-seed{seed}", config_name, overrides, threads)
        return {"arm": arm, "seed": seed, **run, **summary(Path(run["run"]))}

    results = _runs.side_by_side(train, jobs, args.jobs)
    for result in results:
        cells = ", ".join(f"{key} {value:.2f}" for key, value in result["R1"].items())
        minutes = result["seconds"] / 60
        print(f"{result['arm']} seed {result['seed']} ({result['steps']} steps, {minutes:.1f} min): {cells}")
    model_size = {"vision": scale.vision, "text": scale.text, "projection_dim": scale.projection_dim}
    payload = {
        "quick": args.quick,
        "pretrain": {**pretrained, **model_size},
        "zero_shot_clip": clip_figures,
        "disreid_step_zero": step_zero,
        "runs": results,
        "means": {
            arm: mean_over_seeds([result for result in results if result["arm"] == arm])
            for arm in dict.fromkeys(result["arm"] for result in results)
        },
        "wall_s": round(time.perf_counter() - start, 1),
    }
    if not args.quick:
        print(f"figures in {save('clip_finetune', payload)}")
    return payload


def _size(item: str) -> tuple[str, int]:
    """`KEY=INT` of --vision, checked where argparse can name it."""
    key, _, value = item.partition("=")
    if not key or not value.isdigit():
        raise argparse.ArgumentTypeError(f"{item!r} is not KEY=INT, e.g. hidden_size=128")
    return key, int(value)


def mean_over_seeds(results: list[dict]) -> dict:
    """Each R@1 and leakage figure averaged over the seeds' runs of one arm."""
    return {
        part: {key: statistics.mean(result[part][key] for result in results) for key in results[0][part]}
        for part in ("R1", "limit_R1", "leakage")
        if all(None not in result[part].values() for result in results)
    }


if __name__ == "__main__":
    main()
