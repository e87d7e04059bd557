import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder holding the offline datasets: $HOPNB_DATA, else ../shared/data beside the repository."""
    root = Path(os.environ["HOPNB_DATA"]) if os.environ.get("HOPNB_DATA") else SHARED_DATA
    if not (root / "mnist").is_dir():
        pytest.skip(f"offline datasets not found (set $HOPNB_DATA; looked in {root})")
    return root
