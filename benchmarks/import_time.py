"""Time of ``import hopnb`` in a fresh interpreter, against ``import torch`` alone (its floor).

Each variant runs in its own fresh process, in turns, ``--runs`` times; the medians are
printed. ``import hopnb`` must stay near its floor and must not import matplotlib.pyplot
(tests/test_import.py checks the latter; timings are not asserted in the tests).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

VARIANTS = {
    "import torch": "import torch",
    "import hopnb": "import hopnb",
    "import hopnb, hopnb.plot": "import hopnb, hopnb.plot",
}
TIMER = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7)
    runs = p.parse_args().runs
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(runs):
        for name, code in VARIANTS.items():
            out = subprocess.run([sys.executable, "-c", TIMER.format(code)], capture_output=True, text=True, check=True)
            times[name].append(float(out.stdout))
    floor = statistics.median(times["import torch"])
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"{name:28s} {t:6.3f} s  ({t - floor:+.3f} s over import torch)")


if __name__ == "__main__":
    main()
