"""docs/benchmarks.md (the table) and docs/benchmarks.png (the chart)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from .figures import Figure, quantity


def _fmt(value: float | None, unit: str) -> str:
    return "—" if value is None else quantity(value, unit)


README_START = "<!-- benchmarks:start (written by wheelbase bench) -->"
README_END = "<!-- benchmarks:end -->"


def table(figures: Sequence[Figure]) -> list[str]:
    rows = [
        "| # | metric | wheelbase | comparison | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for figure in figures:
        compared = f"{_fmt(figure.compared, figure.unit)} ({figure.comparison_label})" if figure.comparison else "—"
        ratio = f"{figure.ratio:.2f}" if figure.ratio is not None else "—"
        context = math.isinf(figure.limit)
        result = "context" if context else figure.verdict
        note = f" ({figure.note})" if figure.note else ""
        rows.append(f"| {figure.number} | {figure.metric}{note} | {_fmt(figure.value, figure.unit)} | {compared} | "
                    f"{ratio} | {figure.target} | {result} |")
    return rows


NOTES = "<!-- notes: written by hand below this line; wheelbase bench keeps them -->"


def kept_notes(existing: Path) -> str:
    """What stands below NOTES in an earlier benchmarks.md: the reasons behind the figures."""
    text = existing.read_text() if existing.is_file() else ""
    return text.split(NOTES, 1)[1].strip("\n") if NOTES in text else ""


def markdown(figures: Sequence[Figure], machine: Mapping[str, str], notes: str = "") -> str:
    rows = [
        "# Benchmarks",
        "",
        "Written by `wheelbase bench` (medians; each pair measured side by side in the same run, on the",
        "same machine and the same Python image). Regenerate with `make bench`.",
        "",
        *table(figures),
    ]
    rows += ["", "Runs per measurement: " + machine.get("runs", "?"), "", "| machine | |", "|---|---|"]
    rows += [f"| {key} | {value} |" for key, value in machine.items() if key != "runs"]
    rows += ["", NOTES, "", notes] if notes else ["", NOTES]
    return "\n".join(rows) + "\n"


def update_readme(readme: Path, figures: Sequence[Figure], machine: Mapping[str, str]) -> None:
    """Replaces the table between the README's benchmark markers, if it has them."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    body = [README_START, "", *table(figures), "",
            f"Measured {machine.get('date', '')} on {machine.get('cpu', '')}, {machine.get('runs', '')} runs; "
            "details in [docs/benchmarks.md](docs/benchmarks.md).", "", README_END]
    readme.write_text(head + "\n".join(body) + tail)


def _target_line(figure: Figure) -> float | None:
    """The target drawn on the chart, in the figure's unit."""
    if math.isinf(figure.limit):
        return None
    if figure.rule.startswith("ratio"):
        return figure.limit * figure.compared if figure.compared else None
    return figure.limit


def chart(figures: Sequence[Figure], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [f for f in figures if f.comparison and not math.isinf(f.limit)]
    columns = 3
    rows = max(1, math.ceil(len(shown) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows), squeeze=False)
    for axis in axes.flat[len(shown):]:
        axis.axis("off")
    for axis, figure in zip(axes.flat, shown, strict=False):
        values = [figure.value, figure.compared or 0.0]
        colour = "#999999" if figure.emulated else "#2b7a78" if figure.met else "#d1495b"
        bars = axis.bar(["wheelbase", textwrap.fill(figure.comparison_label, 22)], values, color=[colour, "#bbbbbb"])
        axis.bar_label(bars, labels=[quantity(v, figure.unit) for v in values], fontsize=8)
        target = _target_line(figure)
        if target is not None:
            axis.axhline(target, color="#333333", linestyle="--", linewidth=1)
            axis.annotate(f"target {figure.target}", (1.45, target), fontsize=7, ha="right", va="bottom")
        axis.set_title(textwrap.fill(f"[{figure.number}] {figure.metric}", 44), fontsize=8)
        axis.set_ylabel(figure.unit, fontsize=8)
        axis.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
