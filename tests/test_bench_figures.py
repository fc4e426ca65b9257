import math

import pytest

from wheelbase.bench.figures import Figure, quantity
from wheelbase.bench.report import markdown


def figure(ours: list[float], comparison: list[float] | None, rule: str, limit: float) -> Figure:
    return Figure("1", "metric", "s", ours, comparison, "plain", "target", rule, limit)


def test_ratio_uses_medians_of_both_sides() -> None:
    f = figure([1.0, 9.0, 2.0], [4.0, 4.0, 100.0], "ratio<=", 0.25)
    assert f.value == 2.0 and f.compared == 4.0 and f.ratio == 0.5
    assert not f.met and f.verdict == "missed by 100%"


def test_at_least_rules_report_the_shortfall() -> None:
    f = figure([120.0], [100.0], "ratio>=", 1.3)
    assert not f.met and f.verdict == "missed by 8%"
    assert figure([140.0], [100.0], "ratio>=", 1.3).met


def test_an_emulated_figure_is_shown_but_not_judged() -> None:
    f = Figure("4", "arm64 job", "s", [200.0], [15.0], "amd64 job", "<= 1.5x amd64", "ratio<=", 1.5, emulated=True)
    assert f.ratio is not None and round(f.ratio, 1) == 13.3
    assert f.verdict == "not judged: emulated here" and "missed" not in f.line()


def test_value_rules_ignore_the_comparison() -> None:
    assert figure([0.9], None, "value<=", 1.0).met
    assert figure([0.9], [0.1], "value<=", 1.0).met
    assert figure([1.2], None, "value<=", 1.0).verdict == "missed by 20%"


def test_table_lists_every_figure_with_its_verdict() -> None:
    rows = markdown([figure([2.0], [4.0], "ratio<=", 0.25), figure([1.0], [2.0], "ratio<=", math.inf)], {"runs": "5", "cpu": "x"})
    assert "| 1 | metric | 2 s | 4 s (plain) | 0.50 | target | missed by 100% |" in rows
    assert "| context |" in rows
    assert "| cpu | x |" in rows


def test_hand_written_notes_survive_a_new_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from wheelbase.bench.report import NOTES, kept_notes

    earlier = tmp_path / "benchmarks.md"
    earlier.write_text(markdown([figure([2.0], [4.0], "ratio<=", 0.25)], {"runs": "5"}, "## Why\n\nbecause\n"))
    notes = kept_notes(earlier)
    assert notes == "## Why\n\nbecause"
    again = markdown([figure([3.0], [4.0], "ratio<=", 0.25)], {"runs": "1"}, notes)
    assert again.endswith(f"{NOTES}\n\n## Why\n\nbecause\n") and "| 3 s |" in again
    assert kept_notes(tmp_path / "none.md") == ""


def test_readme_table_is_replaced_between_its_markers_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from wheelbase.bench.report import README_END, README_START, update_readme

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold table\n{README_END}\noutro\n")
    update_readme(readme, [figure([2.0], [4.0], "ratio<=", 0.25)], {"date": "today", "cpu": "2 x cpu", "runs": "5"})
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{README_END}\noutro\n")
    assert "old table" not in text and "| 1 | metric | 2 s |" in text


def test_readme_without_markers_is_left_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from wheelbase.bench.report import update_readme

    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    update_readme(readme, [figure([2.0], [4.0], "ratio<=", 0.25)], {})
    assert readme.read_text() == "no markers\n"


def test_context_rows_print_as_context_not_as_met() -> None:
    assert figure([1.0], [2.0], "ratio<=", math.inf).line().endswith("context, no target")
    assert figure([2.0], [4.0], "ratio<=", 0.25).line().endswith("target target: missed by 100%")


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (0.00111, "MB", "1.11 KB"),
    (3.31, "MB", "3.31 MB"),
    (4870.4, "req/s", "4,870 req/s"),
    (0.497, "s", "0.497 s"),
    (154.2, "s", "154 s"),
])
def test_quantities_read_as_people_write_them(value: float, unit: str, shown: str) -> None:
    assert quantity(value, unit) == shown
