"""Re-execute the book's notebooks on a fresh kernel, single-threaded, and normalise them.

    python tools/execute_notebooks.py [book/chXX_name.ipynb ...]

With no arguments every notebook under book/ is run. Each is executed top to bottom
by nbclient with OMP_NUM_THREADS=1 (the setting the tests compare under), then
normalised by nbstripout keeping outputs and execution counts, so that running it
again changes only what really changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NORMALISE = ["--keep-output", "--keep-count", "--extra-keys", "cell.metadata.execution metadata.widgets"]


def notebooks(args: list[str]) -> list[Path]:
    if args:
        return [Path(a).resolve() for a in args]
    return sorted(p for p in (ROOT / "book").rglob("*.ipynb") if "_build" not in p.parts
                  and ".ipynb_checkpoints" not in p.parts)


def main(args: list[str]) -> int:
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for path in notebooks(args):
        start = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        client.execute()
        nbformat.write(nb, path)
        subprocess.run([sys.executable, "-m", "nbstripout", *NORMALISE, str(path)], check=True)
        print(f"{path.relative_to(ROOT)}: executed and normalised in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
