"""Training courses' completion records. (migration 0010)."""

from __future__ import annotations
