"""Run every bench/bench_*.py in its own process and collect their JSON into bench/results.json.

Usage: ``python bench/run.py [NAME ...]`` (names like ``data`` or ``training``; default all).
Each script measures against a reference run in its own process, so ratios are comparable
across machines; BENCHMARKS.md summarizes a run.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    available = {s.stem.removeprefix("bench_") for s in scripts}
    unknown = sorted(set(names) - available)
    if unknown:
        print(f"error: unknown benchmark {', '.join(unknown)}; choose from {', '.join(sorted(available))}",
              file=sys.stderr)
        return 2
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    results = {"machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                           "cpus": __import__("os").cpu_count()}}
    failed = 0
    for script in scripts:
        print(f"== {script.stem}", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        if done.returncode != 0:
            failed += 1
            results[script.stem] = {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
            continue
        results[script.stem] = json.loads(done.stdout)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
