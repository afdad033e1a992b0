"""Shadow and canary evidence read from prediction logs. (migration 0007)."""

from __future__ import annotations
