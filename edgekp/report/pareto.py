"""The Pareto front of accuracy against latency: the rows no other row beats on both."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated points, lower is better on both axes (e.g. (latency, NME)).

    A point is dominated when another is no worse on both axes and strictly better on one; equal
    points are all kept. Returned in order of increasing first coordinate. O(n^2): reports hold
    tens of rows, and the plain definition is easy to check.
    """
    front = []
    for i, (xi, yi) in enumerate(points):
        dominated = any((xj <= xi and yj <= yi) and (xj < xi or yj < yi) for j, (xj, yj) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (points[i][0], points[i][1]))
