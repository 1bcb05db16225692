"""One entry point for every data set: `load_records(data_config, split)`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from disreid.data.annotations import ImageRecord, read_cuhk_pedes, read_icfg_pedes, read_rstpreid
from disreid.data.config import DataConfig

DatasetReader = Callable[[Path, str, DataConfig], list[ImageRecord]]
DATASETS: dict[str, DatasetReader] = {}


def register_dataset(name: str) -> Callable[[DatasetReader], DatasetReader]:
    def register(reader: DatasetReader) -> DatasetReader:
        DATASETS[name] = reader
        return reader

    return register


@register_dataset("synthpedes")
def synthpedes(root: Path, split: str, config: DataConfig) -> list[ImageRecord]:
    """SynthPedes, generated into `root` on first use (seconds), so no download is ever needed."""
    from disreid.data.synth import ANNOTATIONS, VERSION, generate_synthpedes

    if not (root / ANNOTATIONS).is_file():
        generate_synthpedes(
            root, persons=config.synth_persons, seed=config.synth_seed, split_fractions=config.synth_split
        )
    elif made := _synth_manifest(root):  # a set made by another config would silently change the benchmark
        asked = {
            "persons": config.synth_persons,
            "seed": config.synth_seed,
            "split_fractions": list(config.synth_split),
        }
        differ = {key: made.get(key) for key, value in asked.items() if made.get(key) != value}
        said = [f"{key} {made.get(key)} (config: {asked[key]})" for key in differ]
        if made.get("version") != VERSION:  # an older drawing, or older captions, of the same persons
            said.append(f"version {made.get('version')} (this disreid draws version {VERSION})")
            raise ValueError(
                f"the SynthPedes set in {root} was made with {', '.join(said)}: point data.root at another "
                "folder or delete this one to have it remade"
            )
        if differ:
            fields = {"persons": "synth_persons", "seed": "synth_seed", "split_fractions": "synth_split"}
            as_made = " ".join(
                f"--set data.{fields[key]}={json.dumps(value, separators=(',', ':'))}"
                for key, value in differ.items()
            )
            raise ValueError(
                f"the SynthPedes set in {root} was made with {', '.join(said)}: to train on it as it is, "
                f"add {as_made}; or point data.root at another folder, or delete this one to have it remade"
            )
    return read_cuhk_pedes(root / ANNOTATIONS, root, split)


@register_dataset("peta")
def peta(root: Path, split: str, config: DataConfig) -> list[ImageRecord]:
    """PETA's real crops, captioned from their labels by `disreid prepare --dataset peta`."""
    from disreid.data.peta import read_peta

    return read_peta(root, split)


# Data sets whose records carry each image's factors and what each caption states: the captions' limit
# and the leakage probes read them.
WITH_FACTORS = ("synthpedes", "peta")


def as_found(config: DataConfig) -> DataConfig:
    """`config` with the parameters of the SynthPedes set already in `config.root`, if there is one: for
    reading a set as it is (to evaluate a model on it) rather than asking for a particular one."""
    made = _synth_manifest(Path(config.root)) if config.dataset == "synthpedes" else {}
    if not made:
        return config
    return dataclasses.replace(
        config,
        synth_persons=made["persons"],
        synth_seed=made["seed"],
        synth_split=tuple(made["split_fractions"]),
    )


def _synth_manifest(root: Path) -> dict:
    from disreid.data.synth import MANIFEST

    path = root / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {}


@dataclass(frozen=True)
class Benchmark:
    """A published data set as its authors hand it out (`root/annotations` beside the images in
    `root/imgs`, IRRA's layout) and the sizes of its official splits, which `disreid prepare` checks."""

    annotations: str
    reader: Callable[[Path, Path | None, str | None], list[ImageRecord]]
    splits: dict[str, tuple[int, int, int]]  # split -> published (persons, images, captions)
    images: str = "imgs"

    def __call__(self, root: Path, split: str | None, config: DataConfig | None = None) -> list[ImageRecord]:
        annotation_file = root / self.annotations
        if not annotation_file.is_file():
            raise FileNotFoundError(
                f"{annotation_file} is missing: {root} should hold {self.annotations} beside the "
                f"{self.images}/ folder (README.md, Data sets)"
            )
        return self.reader(annotation_file, root / self.images, split)


BENCHMARKS = {
    "cuhk-pedes": Benchmark(  # Li et al., CVPR 2017
        "reid_raw.json",
        read_cuhk_pedes,
        {"train": (11003, 34054, 68126), "val": (1000, 3078, 6158), "test": (1000, 3074, 6156)},
    ),
    "icfg-pedes": Benchmark(  # Ding et al., 2021: no validation split
        "ICFG-PEDES.json", read_icfg_pedes, {"train": (3102, 34674, 34674), "test": (1000, 19848, 19848)}
    ),
    "rstpreid": Benchmark(  # Zhu et al., ACM MM 2021
        "data_captions.json",
        read_rstpreid,
        {"train": (3701, 18505, 37010), "val": (200, 1000, 2000), "test": (200, 1000, 2000)},
    ),
}
DATASETS.update(BENCHMARKS)  # a Benchmark reads itself


def load_records(config: DataConfig, split: str) -> list[ImageRecord]:
    """The records of one split of the data set that `config` names."""
    if config.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {config.dataset!r}; choose one of: {', '.join(sorted(DATASETS))}")
    records = DATASETS[config.dataset](Path(config.root), split, config)
    if not records:
        raise ValueError(f"{config.dataset} at {config.root} has no {split!r} records")
    return records
