"""One entry point for every data set: `load_records(data_config, split)`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from disreid.data.config import DataConfig
from disreid.data.annotations import ImageRecord, read_cuhk_pedes

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
    from disreid.data.synth import ANNOTATIONS, generate_synthpedes

    if not (root / ANNOTATIONS).is_file():
        generate_synthpedes(root, persons=config.synth_persons, seed=config.synth_seed)
    return read_cuhk_pedes(root / ANNOTATIONS, root, split)


@register_dataset("cuhk-pedes")
def cuhk_pedes(root: Path, split: str, config: DataConfig) -> list[ImageRecord]:
    """CUHK-PEDES as its authors hand it out: `reid_raw.json` beside the `imgs/` folder."""
    return read_cuhk_pedes(root / "reid_raw.json", root / "imgs", split)


def load_records(config: DataConfig, split: str) -> list[ImageRecord]:
    """The records of one split of the data set that `config` names."""
    if config.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {config.dataset!r}; choose one of: {', '.join(sorted(DATASETS))}")
    records = DATASETS[config.dataset](Path(config.root), split, config)
    if not records:
        raise ValueError(f"{config.dataset} at {config.root} has no {split!r} records")
    return records
