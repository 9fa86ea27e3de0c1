"""Training from the dashboard against the CLI, and how good the Training page's ETA is.

Usage: ``python bench/bench_training_page.py [--samples N] [--epochs E] [--repeats R] [--skip-page]``;
prints one JSON object.

1. **Page vs CLI** (target: page <= 1.3x CLI). The same configuration (default symmetry CNN,
   ``--epochs`` epochs, default demo data of ``--samples`` materials) is trained ``--repeats``
   times each way, alternating: ``python -m xanes_core train`` in a subprocess, and the Training
   page of a real ``streamlit run app.py`` server driven by headless Chromium (/usr/bin/chromium),
   which fills the form, clicks Start and keeps the page open, so its live panel polls as it
   would for a person. Both times are the run's own "finished in X s" (data packing, training,
   test evaluation), so server start-up and TensorFlow's import are not counted. The ratio is
   medians page / CLI, measured in the same session on the same machine.
2. **ETA** (target: within 25 % after the first epoch, a range before). A Trainer in this
   process with patience = epochs (no early stop, so the planned time is the true time) is
   polled every 0.2 s; each estimate is compared with the time training actually took from
   that moment to the end of its last epoch (polls less than 2 s from the end are left out of
   the relative errors). Reported: how often the first epoch's range held the truth, and the
   median and largest relative error after the first epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from xanes_core.data.demo import generate_demo  # noqa: E402
from xanes_core.learn import runs  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def _finished_seconds(run_dir: Path) -> float:
    status = runs.read_status(run_dir)
    if status["status"] != "completed":
        raise RuntimeError(f"{run_dir.name} ended {status['status']}: {status.get('message')}")
    return float(re.search(r"finished in ([\d.]+) s", status["message"]).group(1))


def cli_run(cache: Path, dataset: Path, epochs: int, out: Path) -> float:
    env = {**os.environ, "XANES_CACHE": str(cache)}
    done = subprocess.run([sys.executable, "-m", "xanes_core", "train", "--dataset", str(dataset), "--epochs",
                           str(epochs), "--out", str(out)], capture_output=True, text=True, env=env, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1:])
    return _finished_seconds(out)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server(cache: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env={**os.environ, "XANES_CACHE": str(cache)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("streamlit did not start")


def page_run(page, url: str, cache: Path, epochs: int) -> float:
    """Start a run from the Training form and keep the page open until it completes."""
    before = {p.name for p in (cache / "runs").glob("*")} if (cache / "runs").is_dir() else set()
    page.goto(url)
    page.get_by_role("link", name="Training").click()
    page.get_by_role("heading", name="Training").wait_for(timeout=120_000)
    epochs_field = page.get_by_label("Epochs (most)", exact=True)
    epochs_field.wait_for(timeout=300_000)  # a busy machine may take minutes to draw the page
    epochs_field.fill(str(epochs))
    page.get_by_role("button", name="Start").click()
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        new = [p for p in (cache / "runs").glob("*") if p.name not in before and (p / runs.STATUS).is_file()]
        if new and runs.read_status(new[0])["status"] in ("completed", "failed", "cancelled"):
            return _finished_seconds(new[0])
        page.wait_for_timeout(500)
    raise RuntimeError("the page run did not finish in 30 min")


def page_vs_cli(cache: Path, dataset: Path, epochs: int, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    process, url = _server(cache)
    cli, page_times = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            for repeat in range(repeats):
                cli.append(cli_run(cache, dataset, epochs, cache / f"cli-{repeat}"))
                page_times.append(page_run(page, url, cache, epochs))
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"cli_seconds": cli, "page_seconds": page_times,
            "page_over_cli": round(statistics.median(page_times) / statistics.median(cli), 3)}


def eta_accuracy(dataset: Path, epochs: int, ensemble: int | None = None) -> dict:
    """ETA against the true remaining training time: the range during epoch 1, the estimate after
    (for an ensemble: after the first epoch of the first CNNs, over every CNN to its end)."""
    from xanes_core.learn.training import Trainer, TrainingConfig

    config = TrainingConfig(dataset=str(dataset), epochs=epochs, patience=epochs, ensemble=ensemble)
    polls = []
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, out=Path(tmp) / "eta").start()
        while not trainer.state.snapshot().finished:
            snapshot = trainer.state.snapshot()
            polls.append((time.monotonic(), snapshot))
            time.sleep(0.2)
    ended = [t for t, snapshot in polls if len(snapshot.history) == epochs * (ensemble or 1)]
    end = ended[0] if ended else time.monotonic()
    first = [(end - t, s) for t, s in polls if s.history == () and s.eta_low_s is not None and s.eta_s is None]
    after = [(end - t, s) for t, s in polls if s.history and s.eta_s is not None and end - t > 2.0]
    errors = [abs(s.eta_s - truth) / truth for truth, s in after]
    starts = {}
    for epoch in range(2, epochs + 1) if ensemble is None else ():
        truth, snapshot = next(((truth, s) for truth, s in after if s.epoch == epoch), (None, None))
        if snapshot is not None:
            starts[f"epoch_{epoch}"] = {"eta_s": round(snapshot.eta_s, 1), "true_s": round(truth, 1),
                                        "relative_error": round(abs(snapshot.eta_s - truth) / truth, 3)}
    return {
        "epoch_seconds": [round(h.get("seconds", 0), 1) for h in polls[-1][1].history] if polls else [],
        "first_epoch_polls_with_truth_in_range": round(
            sum(s.eta_low_s <= truth <= s.eta_high_s for truth, s in first) / max(len(first), 1), 3),
        "first_epoch_first_range_s": [round(first[0][1].eta_low_s, 1), round(first[0][1].eta_high_s, 1),
                                      "truth", round(first[0][0], 1)] if first else None,
        "after_first_epoch_relative_error_median": round(statistics.median(errors), 3) if errors else None,
        "after_first_epoch_relative_error_max": round(max(errors), 3) if errors else None,
        "after_first_epoch_share_within_25_percent": round(sum(e <= 0.25 for e in errors) / len(errors), 3)
        if errors else None,
        "at_epoch_start": starts,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16_458)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--eta-epochs", type=int, default=4)
    parser.add_argument("--eta-ensemble", type=int, default=None,
                        help="time left of an ensemble of this many CNNs instead of one")
    parser.add_argument("--skip-page", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-page-") as tmp:
        cache = Path(tmp)
        dataset = cache / "datasets" / "demo"
        generate_demo(args.samples, seed=0).save(dataset)
        result = {"samples": args.samples, "epochs": args.epochs}
        if not args.skip_page:
            result["page_vs_cli"] = page_vs_cli(cache, dataset, args.epochs, args.repeats)
        result["eta"] = eta_accuracy(dataset, args.eta_epochs, args.eta_ensemble)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
