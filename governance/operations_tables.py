"""Monitoring: time series per version, triggers, alerts and their deliveries, retraining requests. (migration 0005)."""

from __future__ import annotations
