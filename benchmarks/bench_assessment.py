"""Time one whole assessment of the demo's lead-scoring v2 with 100,000 current rows.

Target: under 20 s and under 2 GB peak memory on the 2-core reference machine.
Builds the demo into a temporary folder, registers v2 again with its current data
resampled to 100,000 rows (a new governed name, the same MLflow model), and runs
``python -m governance assess`` in a child process, as a scheduler or CI would;
prints the wall time, the child's peak resident memory and each phase's time.

Run from the repository root: ``PYTHONPATH=. python benchmarks/bench_assessment.py``.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from governance.bootstrap import prepare_store
from governance.demo.world import build_demo
from governance.inventory import list_versions
from governance.registration import RegistrationRequest, register_model
from governance.settings import load_settings

CURRENT_ROWS = 100_000
TARGET_SECONDS = 20.0
TARGET_PEAK_GB = 2.0


def _current_100k(path: Path, source: Path) -> Path:
    current = pd.read_parquet(source)
    rng = np.random.default_rng(0)
    big = current.iloc[rng.integers(0, len(current), CURRENT_ROWS)].reset_index(
        drop=True
    )
    big["lead_id"] = [f"B{i:07d}" for i in range(CURRENT_ROWS)]
    target = path / "current_100k.parquet"
    big.to_parquet(target, index=False)
    return target


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "GOVERNANCE_HOME": folder}
        env.pop("GOVERNANCE_DATABASE_URL", None)
        env.pop("MLFLOW_TRACKING_URI", None)
        settings = load_settings(env)
        started = time.perf_counter()
        build_demo(settings, seed=7)
        print(f"demo build: {time.perf_counter() - started:.1f} s")

        engine, policy = prepare_store(settings)
        v2 = next(
            row for row in list_versions(engine, "lead-scoring") if row.version == "2"
        )
        spec = v2.data_spec
        current = _current_100k(Path(folder), Path(spec["current"]["path"]))
        register_model(
            settings,
            engine,
            policy,
            RegistrationRequest(
                name="lead-scoring-100k",
                model_uri=v2.model_uri,
                train=spec["train"]["path"],
                test=spec["test"]["path"],
                current=str(current),
                target=spec["target"],
                sensitive_features=tuple(spec["sensitive_features"]),
                pii_columns=tuple(spec["pii_columns"]),
                timestamp=spec["timestamp"],
                owner="layla",
                features=tuple(spec["features"]),
                decision_threshold=spec["decision_threshold"],
            ),
            actor_id=v2.registered_by,
        )

        command = [
            sys.executable,
            "-m",
            "governance",
            "assess",
            "--model",
            "lead-scoring-100k",
        ]
        command += ["--version", "2", "--as", "omar"]
        started = time.perf_counter()
        finished = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - started
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2

    if finished.returncode not in (0, 1):
        print(finished.stderr[-3000:])
        return 1
    print(
        f"\nwhole assessment, {CURRENT_ROWS:,} current rows (child process, imports included)"
    )
    print(
        f"  wall time   {seconds:6.1f} s   target < {TARGET_SECONDS:.0f} s   ratio {seconds / TARGET_SECONDS:.2f}"
    )
    print(
        f"  peak memory {peak_gb:6.2f} GB  target < {TARGET_PEAK_GB:.0f} GB   ratio {peak_gb / TARGET_PEAK_GB:.2f}"
    )
    stamps = re.findall(
        r"^(\S+ \S+) .*?runner:\s+(\d+)% (.+)$", finished.stderr, re.MULTILINE
    )
    if stamps:
        print(
            "  phases (progress messages, in order):",
            ", ".join(label for _, _, label in stamps),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
