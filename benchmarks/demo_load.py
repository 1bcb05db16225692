"""A bounded load test of the web demo on 127.0.0.1: CLIENTS clients, each with a session of its own,
send SEARCHES searches each (random captions and modes) as fast as answers come, through Gradio's own
client. Reports latency percentiles, errors, the server's memory before and after, and one search alone.

    python benchmarks/demo_load.py [--clients 8] [--searches 200] [--max-seconds 600]

Prints the figures and writes benchmarks/results/demo_load.json.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import save  # noqa: E402
from disreid.data import read_cuhk_pedes  # noqa: E402
from disreid.data.synth import ANNOTATIONS, generate_synthpedes  # noqa: E402
from disreid.model import DisReIDConfig, build_model  # noqa: E402
from disreid.retrieval import MODES, GalleryIndex  # noqa: E402

SMALL_VIT = {"patch_size": 8, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4}
SMALL_TEXT = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4}


def make_index(work: Path, persons: int) -> tuple[Path, int, list[str]]:
    """An index of the test images of a small SynthPedes, embedded by a tiny untrained model (speed
    does not depend on the weights), its size, and the captions to query it with."""
    generate_synthpedes(work / "synth", persons, height=64, width=32, workers=1, progress=False)
    records = read_cuhk_pedes(work / "synth" / ANNOTATIONS)
    gallery = work / "gallery"
    gallery.mkdir()
    for record in records:
        if record.split == "test":
            os.link(record.path, gallery / f"{record.person_id:05d}_{record.path.name}")
    captions = [caption for record in records for caption in record.captions]
    config = DisReIDConfig(
        backbone="tiny",
        image_size=(64, 32),
        embed_dim=32,
        num_heads=4,
        self_layers=1,
        cross_layers=1,
        num_classes=0,
        image_encoder={**SMALL_VIT, "intermediate_size": 64},
        text_encoder={**SMALL_TEXT, "intermediate_size": 64},
    )
    index = GalleryIndex.build(build_model(config, captions), gallery, work / "index", progress=False)
    return work / "index", len(index.paths), captions


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def wait_for(url: str, seconds: float) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.5)
    raise RuntimeError(f"no demo at {url} after {seconds} s")


def client_run(url: str, captions: list[str], searches: int, seed: int, deadline: float) -> tuple[list, int]:
    """(latencies in s, errors) of one client's searches, in a session of its own."""
    from gradio_client import Client

    client, rng = Client(url, verbose=False, download_files=False), random.Random(seed)
    latencies, errors = [], 0
    for _ in range(searches):
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        try:
            gallery, _ = client.predict(rng.choice(captions), rng.choice(MODES), 12, api_name="/run_search")
            assert len(gallery) == 12
        except Exception:  # noqa: BLE001 — counted, the load goes on
            errors += 1
        latencies.append(time.perf_counter() - start)
    return latencies, errors


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--searches", type=int, default=200, help="searches per client")
    parser.add_argument(
        "--persons", type=int, default=40, help="SynthPedes persons (the index: 30 %% of them)"
    )
    parser.add_argument("--max-seconds", type=float, default=600, help="stop sending after this long")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index_dir, images, captions = make_index(Path(tmp), args.persons)
        port = free_port()
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
        cli = "import sys; from disreid.cli import main; sys.exit(main(sys.argv[1:]))"
        command = [sys.executable, "-c", cli, "demo", "--index", str(index_dir), "--port", str(port)]
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for(url, 120)
            alone, _ = client_run(url, captions, 30, seed=-1, deadline=time.monotonic() + 120)
            before = rss_mib(server.pid)
            deadline = time.monotonic() + args.max_seconds
            start = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                runs = list(
                    pool.map(
                        lambda seed: client_run(url, captions, args.searches, seed, deadline),
                        range(args.clients),
                    )
                )
            seconds = time.perf_counter() - start
            after = rss_mib(server.pid)
        finally:
            server.terminate()
            log = server.communicate(timeout=30)[1]
    latencies = [latency for run, _ in runs for latency in run]
    results = {
        "clients": args.clients,
        "searches_per_client": args.searches,
        "index_images": images,
        "searches": len(latencies),
        "errors": sum(errors for _, errors in runs),
        "seconds": round(seconds, 1),
        "searches_per_s": round(len(latencies) / seconds, 1),
        "p50_s": round(percentile(latencies, 0.50), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "p99_s": round(percentile(latencies, 0.99), 3),
        "alone_median_s": round(statistics.median(alone[5:]), 3),
        "server_rss_mib_before": round(before, 1),
        "server_rss_mib_after": round(after, 1),
        "tracebacks_in_server_log": log.count("Traceback"),
    }
    for key, value in results.items():
        print(f"{key:>24}: {value}")
    print(f"wrote {save('demo_load', results)}")


if __name__ == "__main__":
    main()
