"""Fixtures for the spend_factors tests: the shared EPA file (skipped when absent) and stores."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from spend_factors import FactorDataset, import_dataset, load_dataset

REPO_ROOT = Path(__file__).resolve().parents[3]
EPA_FILE = "supply_chain_ghg_factors_useeio_v1.2_naics2017_usd2021.csv"


def shared_data_dir() -> Path:
    return Path(os.environ.get("SHARED_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def epa_file() -> Path:
    path = shared_data_dir() / EPA_FILE
    if not path.is_file():
        pytest.skip(f"{EPA_FILE} not found in {shared_data_dir()} (set SHARED_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def epa_store(epa_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("factor-store")
    import_dataset(epa_file, "useeio-csv", "useeio", "1.2", store_root=root)
    return root


@pytest.fixture(scope="session")
def epa_dataset(epa_store: Path) -> FactorDataset:
    return load_dataset("useeio", "1.2", store_root=epa_store)


@pytest.fixture()
def starter() -> FactorDataset:
    return load_dataset("starter")


def _ledger(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "line_id": [f"L{i + 1}" for i in range(n)],
        "supplier_id": ["S1"] * n,
        "amount": [1000.0] * n,
        "currency": ["USD"] * n,
        "year": [2021] * n,
    }
    base.update(columns)
    return pd.DataFrame(base)


@pytest.fixture()
def make_ledger():
    """Factory for small ledgers with defaults for the required columns."""
    return _ledger
