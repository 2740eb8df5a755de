"""Plots for the report, each returned as a base64 PNG so the HTML opens offline with nothing beside it."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np


def _figure(width: float = 6.0, height: float = 3.4) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _encode(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def histogram(title: str, xlabel: str, series: dict[str, list[float]], bins: int = 30) -> str:
    figure, axis = _figure()
    values = [v for vs in series.values() for v in vs]
    edges = np.histogram_bin_edges(values, bins=bins) if values else bins
    for name, data in series.items():
        if data:
            axis.hist(data, bins=edges, alpha=0.55, density=True, label=f"{name} (n={len(data)})")
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("density")
    axis.legend()
    return _encode(figure)


def rank_frequency(series: dict[str, list[int]]) -> str:
    figure, axis = _figure()
    for name, counts in series.items():
        if counts:
            axis.loglog(np.arange(1, len(counts) + 1), sorted(counts, reverse=True), label=name)
    axis.set_title("vocabulary words: rank vs frequency (log-log)")
    axis.set_xlabel("rank")
    axis.set_ylabel("occurrences")
    axis.legend()
    return _encode(figure)


def bars(title: str, labels: list[str], values: list[float], xlabel: str = "") -> str:
    figure, axis = _figure(6.0, max(2.0, 0.32 * len(labels) + 1))
    positions = np.arange(len(labels))
    axis.barh(positions, values)
    axis.set_yticks(positions, labels)
    axis.invert_yaxis()
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    return _encode(figure)


def frontier(points: list[tuple[float, float]], score: float) -> str:
    figure, axis = _figure(4.0, 3.6)
    xs, ys = zip(*points, strict=True)
    axis.plot(xs, ys)
    axis.fill_between(xs, ys, alpha=0.2)
    axis.set_title(f"divergence frontier (MAUVE {score:.3f})")
    axis.set_xlabel("exp(-c KL(Q||R))")
    axis.set_ylabel("exp(-c KL(P||R))")
    return _encode(figure)
