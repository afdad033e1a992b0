"""Audit checkpoints, legal holds, retention purges and erasures. (migration 0008)."""

from __future__ import annotations
