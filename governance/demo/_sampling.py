"""Sampling helpers shared by the demo's dataset generators."""

from __future__ import annotations

import numpy as np


def choose(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    """Draw ``n`` labels with probabilities proportional to ``shares``."""
    labels = np.array(list(shares), dtype=object)
    probabilities = np.array(list(shares.values()), dtype=float)
    return rng.choice(labels, size=n, p=probabilities / probabilities.sum())


def intercept_for_rate(
    score: np.ndarray, *, rate: float, weight: np.ndarray | float = 1.0
) -> float:
    """Intercept at which ``weight * sigmoid(score + intercept)`` averages ``rate``.

    Found by bisection; the mean is increasing in the intercept, so 80 halvings of
    a wide bracket pin it far below any sampling noise.
    """
    low, high = -60.0, 60.0
    for _ in range(80):
        middle = (low + high) / 2.0
        mean = np.mean(weight / (1.0 + np.exp(-(score + middle))))
        low, high = (middle, high) if mean < rate else (low, middle)
    return (low + high) / 2.0
