"""A worked example of bringing your own model under governance.

Generates a small churn dataset, trains a gradient-boosting classifier, logs it
to MLflow with the sklearn flavour and registers it as ``churn``; then prints the
two console commands that govern it. Run it with the console's environment:

    .venv/bin/python examples/churn_model.py --out data/churn

The data is written as CSV (train), Parquet (test) and a Delta table (current),
the three formats the console reads.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def make_customers(rows: int, seed: int) -> pd.DataFrame:
    """Synthetic telecom customers with a churn outcome."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    monthly = rng.gamma(4.0, 18.0, rows).round(2)
    calls = rng.poisson(2.0, rows)
    contract = rng.choice(
        ["monthly", "one-year", "two-year"], rows, p=[0.55, 0.3, 0.15]
    )
    logit = (
        -1.2
        + 0.6 * calls
        - 0.05 * tenure
        + 0.01 * monthly
        + (contract == "monthly") * 1.1
    )
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    days = rng.integers(0, 150, rows)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(rows)],
            "signup_date": pd.Timestamp.now(tz="UTC").normalize()
            - pd.to_timedelta(days, "D"),
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "support_calls": calls,
            "contract": contract,
            "gender": rng.choice(["Female", "Male"], rows),
            "age_band": rng.choice(["18-34", "35-54", "55+"], rows),
            "email": [f"customer{i}@example.com" for i in range(rows)],
            "churned": churned,
        }
    )


FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract"]


def train(train_frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    """A one-hot + gradient-boosting pipeline on the four features."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    prep = ColumnTransformer(
        [("contract", OneHotEncoder(handle_unknown="ignore"), ["contract"])],
        remainder="passthrough",
    )
    model = Pipeline(
        [
            ("prep", prep),
            ("model", HistGradientBoostingClassifier(max_iter=80, random_state=0)),
        ]
    )
    return model.fit(train_frame[FEATURES], train_frame["churned"])


def log_and_register(
    model, example: pd.DataFrame, tracking_uri: str, artifacts: Path
) -> str:  # type: ignore[no-untyped-def]
    """Log the model with MLflow's sklearn flavour and register it as ``churn``."""
    import mlflow
    import skops.io
    from mlflow.models import infer_signature

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    if mlflow.get_experiment_by_name("churn") is None and tracking_uri.startswith(
        "sqlite"
    ):
        # A local store without an artifact location writes artifacts to ./mlruns.
        mlflow.create_experiment("churn", artifact_location=str(artifacts.resolve()))
    mlflow.set_experiment("churn")
    with mlflow.start_run():
        mlflow.set_tags(
            {"algorithm": "hist_gradient_boosting", "decision_threshold": "0.4"}
        )
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(example, model.predict(example)),
            # skops refuses types it does not trust by default (HistGradientBoosting's
            # TreePredictor among them) unless they are listed when the model is logged.
            skops_trusted_types=skops.io.get_untrusted_types(
                data=skops.io.dumps(model)
            ),
            registered_model_name="churn",
        )
    return f"models:/churn/{info.registered_model_version}"


def main(argv: list[str] | None = None) -> int:
    """Write the data, train, log and register; print the console commands."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/churn", help="folder for the datasets")
    parser.add_argument("--rows", type=int, default=16_000)
    args = parser.parse_args(argv)

    from deltalake import write_deltalake

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    customers = make_customers(args.rows, seed=3)
    train_frame = customers.iloc[: int(args.rows * 0.7)]
    test_frame = customers.iloc[int(args.rows * 0.7) : int(args.rows * 0.85)]
    current = customers.iloc[int(args.rows * 0.85) :]
    train_frame.to_csv(out / "train.csv", index=False)
    test_frame.to_parquet(out / "test.parquet", index=False)
    write_deltalake(str(out / "current"), current, mode="overwrite")

    home = Path(os.environ.get("GOVERNANCE_HOME", "data")).resolve()
    default_uri = f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
    uri = log_and_register(
        train(train_frame),
        train_frame[FEATURES].head(5),
        os.environ.get("MLFLOW_TRACKING_URI", default_uri),
        home / "mlflow" / "artifacts" / "churn",
    )
    sys.stdout.write(
        f"Logged and registered {uri}. Now govern it:\n"
        f"  python -m governance register --name churn --model-uri {uri} "
        f"--train {out}/train.csv --test {out}/test.parquet --current {out}/current@v0 "
        "--target churned --sensitive gender,age_band --pii email "
        "--timestamp signup_date --owner layla --as omar\n"
        "  python -m governance assess --model churn --version 1 --as omar\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
