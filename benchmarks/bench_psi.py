"""PSI of every feature: governance.assessment.drift against evidently.

Times evidently's ``Report([DataDriftPreset(method="psi")])`` and ``feature_psi`` on
the same 100,000 x 30 reference and current frames (26 numeric and 4 categorical
features), checks that the values agree where the two bin alike, then times
``feature_psi`` alone on 1,000,000 x 30 with its peak memory.

Evidently cuts numeric features into equal-width bins over both samples (Sturges'
rule) where this console cuts at reference quantiles, so numeric values are
compared by feeding evidently's edges to ``psi_with_edges``; categorical values
are compared directly.

Run: ``python benchmarks/bench_psi.py``
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from governance.assessment.drift import feature_psi, profile_reference, psi_with_edges

NUMERIC, CATEGORICAL = 26, 4
BINS = 10
REPEATS = 3


def make_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames; the current one drifts in some features."""
    rng = np.random.default_rng(seed)
    reference, current = {}, {}
    for index in range(NUMERIC):
        shift = 0.02 * index
        reference[f"num_{index}"] = rng.normal(0.0, 1.0, rows)
        current[f"num_{index}"] = rng.normal(shift, 1.0 + shift, rows)
    levels = np.array(["a", "b", "c", "d", "e"])
    for index in range(CATEGORICAL):
        weights = np.full(5, 0.2)
        drifted = weights + np.array([0.05, -0.05, 0.0, 0.02, -0.02]) * index
        reference[f"cat_{index}"] = rng.choice(levels, rows, p=weights)
        current[f"cat_{index}"] = rng.choice(levels, rows, p=drifted)
    return pd.DataFrame(reference), pd.DataFrame(current)


def best_time(function: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """Fastest wall time of ``repeats`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def evidently_psi(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    """PSI per column from evidently's data drift preset."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=[c for c in reference if c.startswith("num_")],
        categorical_columns=[c for c in reference if c.startswith("cat_")],
    )
    report = Report([DataDriftPreset(method="psi")])
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    return {
        metric["config"]["column"]: float(metric["value"])
        for metric in snapshot.dict()["metrics"]
        if metric["config"]["type"].endswith("ValueDrift")
    }


def agreement(
    reference: pd.DataFrame, current: pd.DataFrame, theirs: dict[str, float]
) -> tuple[float, int]:
    """Largest absolute difference from evidently where both bin alike.

    Numeric features are binned at evidently's edges. Features with an empty bin
    are skipped: evidently floors an empty share at 0.0001 or, when the smallest
    non-empty share is below that, at a millionth of it, while this console
    always uses 0.0001.
    """
    ours = feature_psi(reference, current, bins=BINS)
    differences = []
    for name, value in theirs.items():
        if name.startswith("num_"):
            both = np.concatenate([reference[name], current[name]])
            edges = np.histogram_bin_edges(both, bins="sturges")
            counts = [
                np.histogram(frame[name], edges)[0] for frame in (reference, current)
            ]
            if min(count.min() for count in counts) == 0:
                continue
            mine = psi_with_edges(reference[name], current[name], edges)
        else:
            mine = ours[name]
        differences.append(abs(mine - value))
    return max(differences), len(differences)


def peak_memory(function: Callable[[], Any]) -> float:
    """Peak traced allocation of one call, in MiB."""
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def emit(lines: list[str]) -> None:
    """Write the report to standard output (this script's purpose)."""
    print("\n".join(lines))


def main() -> None:
    """Run both benchmarks and write a table."""
    reference, current = make_frames(100_000)
    start = time.perf_counter()
    import evidently  # noqa: F401 - timed separately from the computation

    import_seconds = time.perf_counter() - start
    theirs_seconds, theirs = best_time(lambda: evidently_psi(reference, current), 2)
    ours_seconds, _ = best_time(lambda: feature_psi(reference, current, bins=BINS))
    difference, compared = agreement(reference, current, theirs)

    big_reference, big_current = make_frames(1_000_000, seed=1)
    full_seconds, _ = best_time(
        lambda: feature_psi(big_reference, big_current, bins=BINS)
    )
    profile = profile_reference(big_reference, bins=BINS)
    current_seconds, _ = best_time(lambda: profile.psi(big_current))
    serial_seconds, _ = best_time(
        lambda: profile_reference(big_reference, bins=BINS, max_workers=1).psi(
            big_current, max_workers=1
        )
    )
    peak = peak_memory(lambda: feature_psi(big_reference, big_current, bins=BINS))
    frame_mib = big_reference.memory_usage(deep=True).sum() / 2**20

    emit(
        [
            f"PSI, {NUMERIC} numeric + {CATEGORICAL} categorical features, "
            f"best of {REPEATS} (evidently: best of 2)",
            "",
            f"{'case':<48}{'seconds':>10}",
            f"{'-' * 58}",
            f"{'100k x 30  evidently DataDriftPreset(psi)':<48}{theirs_seconds:>10.3f}",
            f"{'100k x 30  feature_psi':<48}{ours_seconds:>10.3f}",
            f"{'100k x 30  speed-up':<48}{theirs_seconds / ours_seconds:>9.0f}x",
            f"{'  (evidently import, not counted)':<48}{import_seconds:>10.3f}",
            f"{'1M x 30    feature_psi (profile + compare)':<48}{full_seconds:>10.3f}",
            f"{'1M x 30    same, one thread':<48}{serial_seconds:>10.3f}",
            f"{'1M x 30    compare to a stored profile':<48}{current_seconds:>10.3f}",
            "",
            f"max |PSI - evidently PSI| over the {compared} of {len(theirs)} features "
            f"binned alike (no empty bin): {difference:.2e}",
            f"1M x 30 peak traced memory: {peak:.0f} MiB "
            f"(each input frame holds {frame_mib:.0f} MiB)",
        ]
    )


if __name__ == "__main__":
    main()
