"""Time the demo build phase by phase: data, Delta writes, MLflow, each model.

Run from the repository root: ``PYTHONPATH=. python benchmarks/bench_demo.py``. It builds into a temporary folder
and prints one line per phase and the total wall time.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
import time
from pathlib import Path

from governance.demo.leads import generate_leads, split_leads, write_monthly_delta

SEED = 7
END = datetime.date(2025, 6, 15)


class PhaseRecorder(logging.Handler):
    """Collects the 'Demo phase ... took ...' records of the training module."""

    def __init__(self) -> None:
        super().__init__()
        self.phases: list[tuple[str, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("Demo phase"):
            name, seconds = record.args
            self.phases.append((f"train_demo_models: {name}", seconds))


def timed(phases: list[tuple[str, float]], name: str, function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    phases.append((name, time.perf_counter() - started))
    return result


def main() -> None:
    phases: list[tuple[str, float]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        leads = timed(
            phases, "generate_leads (24,000 rows)", generate_leads, seed=SEED, end=END
        )
        timed(
            phases,
            "write_monthly_delta (18 appends)",
            write_monthly_delta,
            leads,
            root / "scratch",
        )
        timed(
            phases,
            "split_leads (with the sklearn import)",
            split_leads,
            leads,
            seed=SEED,
        )

        build_started = time.perf_counter()
        import mlflow

        from governance.demo.training import train_demo_models

        phases.append(("import mlflow", time.perf_counter() - build_started))
        (root / "mlflow").mkdir()
        tracking_uri = f"sqlite:///{root / 'mlflow' / 'mlflow.db'}"
        timed(
            phases,
            "create and migrate a fresh MLflow store",
            lambda: mlflow.MlflowClient(tracking_uri).search_experiments(),
        )

        recorder = PhaseRecorder()
        logging.getLogger("governance.demo.training").addHandler(recorder)
        logging.getLogger("governance.demo.training").setLevel(logging.INFO)
        timed(
            phases,
            "train_demo_models (total)",
            train_demo_models,
            tracking_uri=tracking_uri,
            data_dir=root / "data",
            seed=SEED,
            end=END,
        )
        phases.extend(recorder.phases)
        build_seconds = time.perf_counter() - build_started

    for name, seconds in phases:
        print(f"{name:<62} {seconds:7.2f} s")
    print(
        f"{'demo build (import + store + train_demo_models)':<62} {build_seconds:7.2f} s"
    )
    print(
        f"{'total wall time of this benchmark':<62} {time.perf_counter() - started:7.2f} s"
    )


if __name__ == "__main__":
    main()
