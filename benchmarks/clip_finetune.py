"""The pretrained-CLIP path end to end, with nothing to download.

1. Pretrain a small Hugging Face `CLIPModel` contrastively (full captions, CLIP's own loss and learned
   logit scale, no identity labels) on SynthPedes persons drawn with another seed than the quickstart's,
   and save it with `save_pretrained` beside its word-level tokenizer: a checkpoint folder like any other.
2. Its zero-shot figures on the quickstart's test split, computed with `CLIPModel` alone, and disreid's
   before its first step, which must be the same.
3. The temperature: the baseline fine-tuned at IRRA's 0.02 and at the checkpoint's learned one; the one
   with the better validation score (`train.select_by`) is kept for the rest.
4. disreid and the baseline fine-tuned from the checkpoint with `configs/synth_clip.yaml` (cuhk_pedes.yaml's
   recipe, scaled), and both trained for as many steps from a CLIP of the same size with random weights,
   at the quickstart's from-scratch learning rate; every protocol and mode on the test split.

    python benchmarks/clip_finetune.py           # about 14 minutes on 2 CPU cores
    python benchmarks/clip_finetune.py --quick   # a few steps of each stage, on 16 persons (the test)
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from transformers import CLIPConfig, CLIPModel

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save  # noqa: E402
from disreid.config import DataConfig, ExperimentConfig, TrainConfig, load_config  # noqa: E402
from disreid.data import CaptionPairs, CaptionQueries, GalleryImages, build_transforms, load_records  # noqa: E402
from disreid.evaluation import evaluate, format_results  # noqa: E402
from disreid.evaluation.metrics import LazySimilarity, rank  # noqa: E402
from disreid.model import DisReID, build_model  # noqa: E402
from disreid.model.tokenizer import build_word_tokenizer  # noqa: E402
from disreid.training import Trainer  # noqa: E402
from disreid.training.optim import build_scheduler  # noqa: E402

FINETUNE_CONFIG = "synth_clip"
BASELINE = [  # synth_baseline.yaml's: no DisentangleModule, identity-aware InfoNCE and classification only
    "model.disentangle=false",
    *(
        f"loss.{term}=0"
        for term in ("bio", "cloth", "cloth_adv", "cloth_match", "decouple", "gate_regularization")
    ),
]
SCRATCH = ["train.lr=1e-3", "train.new_layer_lr_factor=1"]  # synth_tiny.yaml's rate for models from scratch
IRRA_TEMPERATURE = 0.02


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


FULL = Scale(
    # Zero-shot full-mode R@1 on the quickstart's test split (limit 99.46): 25.49 after 1,000 steps on
    # 1,000 persons, 55.69 after 3,000 steps on 2,000 (benchmarks/README.md).
    pretrain_persons=2000,
    pretrain_steps=3000,
    batch_size=64,
    # Patch 16 at 128×64 is an 8×4 grid, interpolated from the 4×4 of the checkpoint's own 64×64, as
    # ViT-B/16's 14×14 is to 24×8 at 384×128.
    vision={"image_size": 64, "patch_size": 16, "hidden_size": 64, "num_hidden_layers": 3,
            "num_attention_heads": 4, "intermediate_size": 256},
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
    finetune=["model.image_size=[32, 16]", "data.synth_persons=16", "data.synth_split=[0.6, 0.1, 0.3]",
              "data.persons_per_batch=4", "data.instances_per_person=2"],
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


def pretrain_clip(records: list, scale: Scale, config: ExperimentConfig, out: Path, lr: float = 5e-4) -> dict:
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
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)
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
    """The standard protocol's full-mode figures of the CLIP checkpoint alone, through `CLIPModel`."""
    from transformers import AutoTokenizer

    model, tokenizer = CLIPModel.from_pretrained(checkpoint).eval(), AutoTokenizer.from_pretrained(checkpoint)
    data = config.data
    gallery = GalleryImages(records, build_transforms(config.model.image_size, False, data.mean, data.std))
    images, gallery_pids = [], []
    for batch in DataLoader(gallery, batch_size=128):
        output = model.get_image_features(pixel_values=batch["pixels"], interpolate_pos_encoding=True)
        images.append(F.normalize(_features(output), dim=-1))
        gallery_pids.append(batch["person_id"])
    texts, query_pids = [], []
    for batch in DataLoader(CaptionQueries(records), batch_size=128):
        tokens = tokenizer(list(batch["caption"]), padding=True, return_tensors="pt")
        texts.append(F.normalize(_features(model.get_text_features(**tokens)), dim=-1))
        query_pids.append(batch["person_id"])
    similarity = LazySimilarity(torch.cat(texts), torch.cat(images))
    return rank(similarity, torch.cat(query_pids), torch.cat(gallery_pids))


def _features(output: object) -> torch.Tensor:
    """transformers 4 returns the projected features as a tensor, 5 as the output's `pooler_output`."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


# ---------------------------------------------------------------------------------------- 3.-4. train
def command(overrides: list[str], out: Path) -> str:
    sets = " ".join(shlex.quote(override) for override in overrides)
    return f"disreid train --config {FINETUNE_CONFIG} --set {sets} --out {out} --no-report"


def train(name: str, overrides: list[str], runs: Path) -> dict:
    """`disreid train` in this process; its best model evaluated on the test split."""
    out = runs / name
    print(f"\n{name}: {command(overrides, out)}", flush=True)
    config = load_config(FINETUNE_CONFIG, overrides)
    start = time.perf_counter()
    trainer = Trainer(config, out)
    best = trainer.fit()
    wall = time.perf_counter() - start
    model = DisReID.from_pretrained(out / "best" / "model")
    results = evaluate(model, load_records(config.data, "test"), config.data)
    summary = {"command": command(overrides, out), "steps": trainer.step, "wall_s": round(wall, 1)}
    return {**summary, "validation": best, "test": results}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps of each stage, on 16 persons")
    parser.add_argument("--runs", type=Path, default=Path("runs/clip-finetune"))
    parser.add_argument("--data", type=Path, help="the quickstart's SynthPedes (default: synth_clip.yaml's)")
    parser.add_argument("--pretrain-seed", type=int, default=1, help="the quickstart's is 0")
    args = parser.parse_args(argv)
    scale, start = QUICK if args.quick else FULL, time.perf_counter()
    runs = args.runs
    data = args.data or Path(load_config(FINETUNE_CONFIG).data.root)
    base = [*scale.finetune, f"data.root={data}"]
    clip_dir, random_dir = runs / "clip", runs / "clip-random"

    config = load_config(FINETUNE_CONFIG, [*base, f"model.checkpoint={clip_dir}"])
    persons, seed = scale.pretrain_persons, args.pretrain_seed
    records = pretraining_records(runs / "pretrain-data", config.data, persons, seed)
    pretrained = pretrain_clip(records, scale, config, clip_dir)
    random_clip_like(clip_dir, random_dir)
    print(f"pretrained CLIP: {pretrained}", flush=True)

    test = load_records(config.data, "test")
    clip_figures = zero_shot(clip_dir, test, config)
    texts = [text for record in load_records(config.data, "train") for text in record.captions]
    step_zero = evaluate(build_model(config.model, texts), test, config.data)["standard"]["full"]
    print(f"zero-shot R@1: CLIPModel {clip_figures['R1']:.2f}, disreid at step 0 {step_zero['R1']:.2f}")

    learned = 1 / pretrained["logit_scale"]
    finetune = [*base, f"model.checkpoint={clip_dir}"]
    arms = {}
    for label, temperature in (("irra", IRRA_TEMPERATURE), ("learned", learned)):
        overrides = [*finetune, *BASELINE, f"train.temperature={temperature}"]
        arms[label] = train(f"baseline-t{temperature:.4g}", overrides, runs)
    chosen = max(arms, key=lambda label: arms[label]["validation"])
    temperature = IRRA_TEMPERATURE if chosen == "irra" else learned
    chosen_t = f"train.temperature={temperature}"
    scratch = [*base, f"model.checkpoint={random_dir}", chosen_t, *SCRATCH]
    results = {
        "disreid": train("disreid", [*finetune, chosen_t], runs),
        "baseline": arms[chosen],
        "disreid-scratch": train("disreid-scratch", scratch, runs),
        "baseline-scratch": train("baseline-scratch", [*scratch, *BASELINE], runs),
    }
    print(format_results({name: result["test"] for name, result in results.items()}))
    payload = {
        "quick": args.quick,
        "pretrain": {**pretrained, "persons": scale.pretrain_persons, "seed": args.pretrain_seed,
                     "vision": scale.vision, "text": scale.text, "projection_dim": scale.projection_dim},
        "zero_shot_clip": clip_figures,
        "disreid_step_zero": step_zero,
        "temperature": {"irra": IRRA_TEMPERATURE, "learned": learned, "chosen": chosen,
                        "validation": {label: arm["validation"] for label, arm in arms.items()},
                        "test_full": {label: arm["test"]["standard"]["full"] for label, arm in arms.items()}},
        "runs": results,
        "wall_s": round(time.perf_counter() - start, 1),
    }  # fmt: skip
    if not args.quick:
        print(f"figures in {save('clip_finetune', payload)}")
    return payload


if __name__ == "__main__":
    main()
