"""Reading the data a model is governed with, and fingerprinting it.

A dataset reference is a path to a CSV or Parquet file, or to a Delta Lake table
pinned to a version (``path@v12``) or a timestamp (``path@2026-05-31T00:00:00Z``).
Delta tables are read with the ``deltalake`` package; no Spark is needed. The
fingerprint of a file is the SHA-256 of its bytes; that of a Delta table is the
SHA-256 of its table URI and the version that was read, which Delta guarantees
is immutable.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from governance.errors import InvalidInputError

logger = logging.getLogger(__name__)

_PIN = re.compile(r"^(?P<path>.+?)@(?P<pin>v\d+|\d{4}-\d{2}-\d{2}.*)$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class DatasetRef:
    """Where a dataset lives and exactly which content was read."""

    path: str
    kind: str
    sha256: str
    rows: int
    delta_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The reference as stored with a registration."""
        return {
            "path": self.path,
            "kind": self.kind,
            "sha256": self.sha256,
            "rows": self.rows,
            "delta_version": self.delta_version,
        }


def read_dataset(reference: str) -> tuple[pd.DataFrame, DatasetRef]:
    """Read a CSV, Parquet or pinned Delta dataset and fingerprint what was read.

    Raises
    ------
    InvalidInputError
        When the path does not exist or is not CSV, Parquet or a Delta table.
    """
    match = _PIN.match(reference)
    path = Path(match["path"] if match else reference).expanduser()
    if not path.exists():
        raise InvalidInputError(f"No dataset at {path}. Check the path.")
    if (path / "_delta_log").is_dir():
        return _read_delta(path, match["pin"] if match else None)
    if match:
        raise InvalidInputError(
            f"{path} is not a Delta table, so it cannot be pinned to {match['pin']}."
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise InvalidInputError(
                f"{path} is neither CSV (.csv), Parquet (.parquet) nor a Delta table folder; "
                "convert it to one of these."
            )
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InvalidInputError(f"Cannot read {path} as {suffix[1:]}: {exc}") from exc
    kind = "csv" if suffix == ".csv" else "parquet"
    return frame, DatasetRef(str(path.resolve()), kind, file_sha256(path), len(frame))


def _read_delta(path: Path, pin: str | None) -> tuple[pd.DataFrame, DatasetRef]:
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    if pin and pin.startswith("v"):
        table.load_as_version(int(pin[1:]))
    elif pin:
        table.load_as_version(pd.Timestamp(pin).to_pydatetime())
    frame = table.to_pandas()
    version = table.version()
    uri = str(path.resolve())
    digest = hashlib.sha256(f"delta:{uri}@{version}".encode()).hexdigest()
    return frame, DatasetRef(uri, "delta", digest, len(frame), delta_version=version)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
