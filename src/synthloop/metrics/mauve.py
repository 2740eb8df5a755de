"""A MAUVE-style divergence between two text distributions (Pillutla et al., 2021), implemented here.

Both samples are embedded in one space, the union is quantised with k-means (k = samples/10, as MAUVE does), and
each side becomes a histogram P, Q over the clusters. For mixtures R = λP + (1-λ)Q the divergence frontier is the
curve (exp(-c·KL(Q‖R)), exp(-c·KL(P‖R))); MAUVE is the area under it (1 = identical distributions, near 0 = no
overlap), with the paper's scaling c = 5. mauve-text itself is GPL-3 and downloads gpt2-large by default.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def kmeans(points: np.ndarray, k: int, iterations: int = 30, seed: int = 0) -> np.ndarray:
    """Cluster labels for each point (k-means++ initialisation, Lloyd iterations)."""
    rng = np.random.default_rng(seed)
    centres = [points[rng.integers(len(points))]]
    distances = ((points - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        probabilities = distances / distances.sum() if distances.sum() > 0 else None
        centres.append(points[rng.choice(len(points), p=probabilities)])
        distances = np.minimum(distances, ((points - centres[-1]) ** 2).sum(1))
    centre_array = np.array(centres)
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(iterations):
        squared = (points**2).sum(1)[:, None] - 2 * points @ centre_array.T + (centre_array**2).sum(1)[None, :]
        new_labels = squared.argmin(1)
        if np.array_equal(new_labels, labels) and _ > 0:
            break
        labels = new_labels
        for cluster in range(k):
            members = points[labels == cluster]
            if len(members):
                centre_array[cluster] = members.mean(0)
    return labels


def _kl(p: np.ndarray, r: np.ndarray) -> float:
    mask = p > 0
    return float((p[mask] * np.log(p[mask] / r[mask])).sum())


def mauve(
    p_embeddings: np.ndarray, q_embeddings: np.ndarray, clusters: int | None = None, scaling: float = 5.0, seed: int = 0
) -> dict[str, Any]:
    joint = np.concatenate([p_embeddings, q_embeddings]).astype(np.float64)
    joint -= joint.mean(0)  # mean-of-token embeddings share one direction; centring lets k-means see the rest
    k = clusters or max(2, min(len(joint) // 10, 500))
    labels = kmeans(joint, k, seed=seed)
    p = np.bincount(labels[: len(p_embeddings)], minlength=k) / len(p_embeddings)
    q = np.bincount(labels[len(p_embeddings) :], minlength=k) / len(q_embeddings)
    frontier = [(0.0, 1.0)]
    for weight in np.linspace(1e-6, 1 - 1e-6, 50):
        r = weight * p + (1 - weight) * q
        frontier.append((float(np.exp(-scaling * _kl(q, r))), float(np.exp(-scaling * _kl(p, r)))))
    frontier.append((1.0, 0.0))
    frontier.sort()
    xs, ys = np.array(frontier).T
    area = float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2))
    return {"mauve": area, "clusters": k, "frontier": frontier}
