"""Commands for training records."""

from __future__ import annotations

from typing import Any


def add_commands(commands: Any) -> None:
    """Add this area's commands to the ``python -m governance`` parser."""
    del commands
