"""A measured figure, its comparison, and whether it meets its target."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass


def quantity(value: float, unit: str) -> str:
    """A figure as people read it: 1.11 KB rather than 0.00111 MB, 4,870 req/s rather than 4.87e+03."""
    if unit == "MB" and abs(value) < 0.1:
        return f"{value * 1000:.3g} KB"
    if abs(value) >= 1000:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


@dataclass(frozen=True)
class Figure:
    number: str
    metric: str
    unit: str
    ours: list[float]
    comparison: list[float] | None  # the same measurement for the comparison, same run
    comparison_label: str
    target: str
    # "ratio<=": ours/comparison must be at most limit; "ratio>=": at least; "value<=": ours at most.
    rule: str
    limit: float
    note: str = ""
    # Measured under QEMU here while its target is for native machines: shown, not judged.
    emulated: bool = False

    @property
    def value(self) -> float:
        return statistics.median(self.ours)

    @property
    def compared(self) -> float | None:
        return statistics.median(self.comparison) if self.comparison else None

    @property
    def ratio(self) -> float | None:
        compared = self.compared
        if not compared:
            return None
        return self.value / compared

    @property
    def met(self) -> bool:
        measured = self.ratio if self.rule.startswith("ratio") else self.value
        if measured is None:
            return False
        return measured <= self.limit if self.rule.endswith("<=") else measured >= self.limit

    @property
    def verdict(self) -> str:
        if self.emulated:
            return "not judged: emulated here"
        if self.met:
            return "met"
        measured = self.ratio if self.rule.startswith("ratio") else self.value
        if measured is None:
            return "not measured"
        if self.rule.endswith("<="):
            return f"missed by {(measured / self.limit - 1) * 100:.0f}%"
        return f"missed by {(1 - measured / self.limit) * 100:.0f}%"

    def line(self) -> str:
        compared = f" vs {quantity(self.compared, self.unit)} ({self.comparison_label})" if self.compared is not None else ""
        ratio = f", ratio {self.ratio:.2f}" if self.ratio is not None else ""
        measured = f"[{self.number}] {self.metric}: {quantity(self.value, self.unit)}{compared}{ratio}, n={len(self.ours)}"
        if math.isinf(self.limit):
            return f"{measured}; context, no target"
        return f"{measured}; target {self.target}: {self.verdict}"
