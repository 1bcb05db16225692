"""The pretrained-CLIP chain of benchmarks/clip_finetune.py, a few steps of each stage: a CLIP pretrained
here is a checkpoint any `CLIPModel` reads, disreid starts from exactly its scores, and fine-tunes from it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from transformers import AutoTokenizer, CLIPModel

_BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "clip_finetune.py"
_spec = importlib.util.spec_from_file_location("clip_finetune_benchmark", _BENCHMARK)
benchmark = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)  # its dataclasses look it up
_spec.loader.exec_module(benchmark)


def test_the_chain_runs_and_starts_from_clip(synth_root, tmp_path, one_thread):
    runs = str(tmp_path / "runs")
    args = ["--quick", "--runs", runs, "--data", str(synth_root), "--vision", "hidden_size=48"]
    args += ["--pretrain-steps", "3"]
    figures = benchmark.main(args)
    clip_dir = tmp_path / "runs" / "clip"
    assert CLIPModel.from_pretrained(clip_dir).config.vision_config.hidden_size == 48  # --vision's size
    assert figures["pretrain"]["steps"] == 3  # --pretrain-steps, where --quick alone takes 2
    tokenizer = AutoTokenizer.from_pretrained(clip_dir)
    assert tokenizer("a man")["input_ids"][-1] == tokenizer.sep_token_id  # the token CLIP pools
    for metric in ("R1", "R5", "R10", "mAP", "mINP"):
        assert (
            abs(figures["disreid_step_zero"][metric] - figures["zero_shot_clip"]["standard"]["full"][metric])
            < 1e-6
        )
    zero_shot = figures["zero_shot_clip"]
    assert set(zero_shot["standard"]) == {"full", "identity", "clothing"} and zero_shot["clothes_changing"]
    by_arm = {run["arm"]: run for run in figures["runs"]}
    assert set(by_arm) == {"disreid", "baseline", "scratch", "random-clip"}
    modes = {"standard full", "standard identity", "standard clothing", "clothes_changing full",
             "clothes_changing identity"}  # fmt: skip
    for run in by_arm.values():
        assert run["steps"] > 0 and set(run["R1"]) == set(run["limit_R1"]) == modes
    assert by_arm["disreid"]["steps"] == by_arm["scratch"]["steps"]  # the same steps from either start
    assert figures["means"]["disreid"]["R1"] == by_arm["disreid"]["R1"]  # one seed

    # Run again, it trains nothing: the runs in --runs are read back
    stamps = {path: path.stat().st_mtime_ns for path in (tmp_path / "runs").glob("*/time.json")}
    again = benchmark.main(args)
    assert {path: path.stat().st_mtime_ns for path in stamps} == stamps
    assert again["runs"] == figures["runs"]


def test_the_baseline_trains_info_nce_and_cls_alone():
    """The fine-tuning config's disreid-only terms (text decorrelation among them) are all off for the
    baseline, whose one embedding they would pull away from its own caption."""
    config = benchmark.load_config(benchmark.FINETUNE_CONFIG, benchmark.BASELINE)
    assert config.loss.text_decorrelation == 0 and config.loss.bio == 0 and not config.model.disentangle
    assert {term for term, weight in vars(config.loss).items() if weight} == {"info_nce", "cls"}
