from __future__ import annotations

from pathlib import Path

import pytest

from sanet_video import load_sanet

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "datasets" / "sanet-train"


@pytest.fixture(scope="session")
def model():
    """The shipped weights on the CPU, frozen."""
    return load_sanet(weights="default", device="cpu").requires_grad_(False)


@pytest.fixture(scope="session")
def train_data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"training set not found at {DATA}")
    return DATA
