"""Experiment configuration: typed dataclasses read from one YAML file per experiment, every field
overridable from the command line with `--set section.field=value`, saved beside each run."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from disreid.data.config import BAD_RECORDS, DataConfig
from disreid.evaluation.metrics import SUMMARY_METRICS
from disreid.losses import DECORRELATION_MEASURES, LossWeights
from disreid.model import DisReIDConfig


@dataclass
class TrainConfig:
    """The optimisation recipe."""

    epochs: int = 10
    lr: float = 1e-3  # pretrained encoders
    new_layer_lr_factor: float = 1.0  # new layers train at lr × this (IRRA: 5 with pretrained CLIP)
    weight_decay: float = 0.01
    warmup_epochs: float = 1.0
    # Epochs in which the parts a checkpoint provides stay as they are while the new layers learn on its
    # features (a linear probe, then the whole model fine-tunes: LP-FT); they then warm up of their own.
    frozen_epochs: float = 0.0
    grad_clip: float = 5.0
    eval_every: int = 1  # validate every N epochs (0: never)
    select_by: str = "R1"  # the validation metric that picks best/: R1, R5, R10, mAP or mINP
    seed: int = 0
    device: str = "auto"  # "auto": CUDA when available, else CPU
    amp: bool = True  # bf16 autocast on CUDA (never on CPU, where fp32 is faster)
    temperature: float = 0.1
    hsic_kernel: str = "linear"  # or "correlation" (scale-free, as a probe sees it) or "rbf"
    decorrelation: str = "pairwise"  # text_decorrelation's measure, or "canonical" (whitened, as a probe)
    log_every: int = 10  # steps between CSV/TensorBoard rows
    # A disreid model or run folder whose weights start this run (same architecture): a model trained on
    # SynthPedes starting a run on real photos. Words its vocabulary shares keep their embeddings.
    init_from: str | None = None


@dataclass
class ExperimentConfig:
    model: DisReIDConfig = field(default_factory=DisReIDConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    loss: LossWeights = field(default_factory=LossWeights)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        from disreid.io import atomic_write_text

        atomic_write_text(path, yaml.safe_dump(_plain(self.to_dict()), sort_keys=False))

    def check(self) -> None:
        """Refuse settings that cannot train, before any work: a run of no epochs, a learning rate that
        is not a positive number, a NaN anywhere (which would spoil a whole epoch first)."""
        values = self.to_dict()
        problems = {}
        for key, (holds, requirement) in RULES.items():
            section, name = key.split(".")
            value = values[section][name]
            if not holds(value):
                problems[key] = f"{key} must be {requirement}, got {value!r}"
        for key, value in _numbers(values):
            if key not in problems and not math.isfinite(value):
                problems[key] = f"{key} is {value}"
        if problems:
            raise ValueError("; ".join(problems.values()))


RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "model.embed_dim": (lambda v: v is None or v >= 1, "at least 1 (or left unset: the backbone's own)"),
    "model.num_heads": (lambda v: v >= 1, "at least 1"),
    "model.self_layers": (lambda v: v >= 0, "0 or more"),
    "model.cross_layers": (lambda v: v >= 0, "0 or more"),
    "train.seed": (lambda v: 0 <= v < 2**32, "from 0 to 4294967295 (what numpy's generator takes)"),
    "train.epochs": (lambda v: v >= 1, "at least 1"),
    "train.lr": (lambda v: v > 0, "a positive number"),
    "train.new_layer_lr_factor": (lambda v: v > 0, "a positive number"),
    "train.weight_decay": (lambda v: v >= 0, "0 or more"),
    "train.warmup_epochs": (lambda v: v >= 0, "0 or more"),
    "train.frozen_epochs": (lambda v: v >= 0, "0 or more"),
    "train.grad_clip": (lambda v: v >= 0, "0 (off) or more"),
    "train.temperature": (lambda v: v > 0, "a positive number"),
    "train.eval_every": (lambda v: v >= 0, "0 (never) or more"),
    "train.log_every": (lambda v: v >= 1, "at least 1"),
    "train.select_by": (lambda v: v in SUMMARY_METRICS, f"one of {', '.join(SUMMARY_METRICS)}"),
    "train.decorrelation": (
        lambda v: v in DECORRELATION_MEASURES,
        f"one of {', '.join(DECORRELATION_MEASURES)}",
    ),
    "data.persons_per_batch": (lambda v: v >= 1, "at least 1"),
    "data.instances_per_person": (lambda v: v >= 1, "at least 1"),
    "data.num_workers": (lambda v: v >= 0, "0 or more"),
    "data.mismatch_prob": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "data.unknown_word_prob": (lambda v: 0 <= v < 1, "0 or more, below 1"),
    "data.erasing_prob": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "data.bad_records": (lambda v: v in BAD_RECORDS, f"one of {', '.join(BAD_RECORDS)}"),
    "data.train_splits": (lambda v: len(v) >= 1, "a list of at least one split"),
}


def _numbers(values: dict[str, Any], where: str = "") -> Iterator[tuple[str, float]]:
    """(section.field, value) of every float in a nested dict of settings."""
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _numbers(value, f"{where}{key}.")
        elif isinstance(value, float):
            yield f"{where}{key}", value


def _plain(value: Any) -> Any:
    """Tuples become lists so that the YAML stays readable and safe_load can read it back."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


PACKAGED_CONFIGS = Path(__file__).parent / "configs"


def find_config(name: str | Path) -> Path:
    """A config file by path, or by the name of one shipped with disreid (`synth_tiny`, `cuhk_pedes`...)."""
    path = Path(name)
    if path.is_file():
        return path
    packaged = PACKAGED_CONFIGS / f"{path.stem}.yaml"
    if path.parent == Path(".") and packaged.is_file():
        return packaged
    shipped = ", ".join(sorted(p.stem for p in PACKAGED_CONFIGS.glob("*.yaml")))
    raise FileNotFoundError(f"config file {name} does not exist (configs shipped with disreid: {shipped})")


def load_config(
    path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> ExperimentConfig:
    """Read a YAML experiment file (or the defaults), then apply `section.field=value` overrides.

    A file may start from another with `base: NAME` (a file beside it or a shipped config) and state
    only the fields it changes; mappings merge into mappings.

    Values of overrides are parsed as YAML (`3`, `1e-4`, `true`, `[384, 128]`). Unknown sections or
    fields are errors, so that a typo never silently trains the wrong experiment.
    """
    values = _read_config_file(find_config(path)) if path is not None else {}
    for override in overrides:
        key, separator, raw = override.partition("=")
        if not separator or "." not in key:
            raise ValueError(f"override {override!r} must read section.field=value")
        section, name = key.split(".", 1)
        values.setdefault(section, {})[name] = _parse_yaml(raw, f"override {override!r}")
    return _build(ExperimentConfig, values, "config")


def _read_config_file(path: Path, including: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file's sections laid over those of the file its `base:` names (a path beside it or a
    shipped config), so that a variant of an experiment states only what it changes."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {error.start}: {error.reason}); save it as UTF-8"
        ) from None
    values = _parse_yaml(text, str(path)) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of sections, got {type(values).__name__}")
    base = values.pop("base", None)
    if base is None:
        return values
    beside = path.parent / str(base)
    base_path = find_config(beside if beside.is_file() else str(base))
    if base_path.resolve() in (*including, path.resolve()):
        raise ValueError(f"{path}: base {base} includes {path.name} again")
    return _merged(_read_config_file(base_path, (*including, path.resolve())), values)


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` laid over it, mapping into mapping."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = _merged(merged[key], value)
        merged[key] = value
    return merged


def _parse_yaml(text: str, where: str) -> Any:
    """The YAML value of `text`; a syntax error says where, in one line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ValueError(
            f"{where}{line}: not valid YAML ({getattr(error, 'problem', None) or error})"
        ) from None


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a mapping, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value, f"{where}.{name}")
        else:
            kwargs[name] = _coerce(value, hint, f"{where}.{name}")
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check a YAML value against the field's type, converting only where it is lossless."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        hint = next(arg for arg in args if arg is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and args[-1:] == (Ellipsis,):  # tuple[X, ...]: any number of X
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        return tuple(_coerce(item, args[0], where) for item in value)
    if origin is tuple:
        if not isinstance(value, list | tuple) or len(value) != len(args):
            raise ValueError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(item, arg, where) for item, arg in zip(value, args, strict=True))
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a mapping, got {value!r}")
        return value
    if hint is float and not isinstance(value, bool):
        try:  # YAML 1.1 reads "1e-4" as a string
            return float(value)
        except (TypeError, ValueError):
            pass
    if hint in (int, float, str, bool) and type(value) is not hint:
        raise ValueError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value
