"""Alerts and their deliveries through the configured channels. (migration 0011)."""

from __future__ import annotations
