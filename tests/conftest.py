import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so CI cannot flake;
# HYPOTHESIS_PROFILE=stress draws many fresh ones.
settings.register_profile("deterministic", derandomize=True, deadline=None, max_examples=60)
settings.register_profile("stress", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder holding the offline datasets: $HOPNB_DATA, else ../shared/data beside the repository."""
    root = Path(os.environ["HOPNB_DATA"]) if os.environ.get("HOPNB_DATA") else SHARED_DATA
    if not (root / "mnist").is_dir():
        pytest.skip(f"offline datasets not found (set $HOPNB_DATA; looked in {root})")
    return root
