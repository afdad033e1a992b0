"""Incidents with playbook steps, and the review calendar. (migration 0006)."""

from __future__ import annotations
