"""Fixtures of the demo tests: generated leads, MLflow stores and one demo build.

A fresh MLflow SQLite store spends seconds on its migrations, so one template
store is migrated per session and copied for each test that needs a clean one.
The full demo is trained once per session and shared read-only.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pandas as pd
import pytest

from governance.demo.leads import generate_leads, split_leads
from governance.demo.training import DemoVersion, train_demo_models

SEED = 7
END = datetime.date(2025, 6, 15)


@pytest.fixture(scope="session")
def leads() -> pd.DataFrame:
    return generate_leads(seed=SEED, end=END)


@pytest.fixture(scope="session")
def lead_splits(leads: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return split_leads(leads, seed=SEED)


@pytest.fixture(scope="session")
def mlflow_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlflow import MlflowClient

    database = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()
    return database


def _copy_store(template: Path, folder: Path) -> str:
    (folder / "mlflow").mkdir(parents=True)
    database = folder / "mlflow" / "mlflow.db"
    shutil.copyfile(template, database)
    return f"sqlite:///{database}"


@pytest.fixture
def mlflow_uri(mlflow_template_db: Path, tmp_path: Path) -> str:
    """Tracking URI of a clean MLflow store of this test's own."""
    return _copy_store(mlflow_template_db, tmp_path)


@pytest.fixture(scope="session")
def demo_home(
    tmp_path_factory: pytest.TempPathFactory, mlflow_template_db: Path
) -> Path:
    return tmp_path_factory.mktemp("demo-home")


@pytest.fixture(scope="session")
def demo_versions(demo_home: Path, mlflow_template_db: Path) -> list[DemoVersion]:
    tracking_uri = _copy_store(mlflow_template_db, demo_home)
    return train_demo_models(
        tracking_uri=tracking_uri, data_dir=demo_home / "data", seed=SEED, end=END
    )


@pytest.fixture(scope="session")
def demo_tracking_uri(demo_home: Path, demo_versions: list[DemoVersion]) -> str:
    return f"sqlite:///{demo_home / 'mlflow' / 'mlflow.db'}"
