"""bench/results.md: a run of some sections replaces their tables and keeps the others'
(with the stamp of the run that made them) and the hand-written analysis."""

from __future__ import annotations

from pathlib import Path

from bench.report import KEPT, Row, Section, Summary, document, write


def _run(*titles: str, ms: float) -> str:
    sections = [Section(t, [Row("x", Summary(1, ms, ms))]) for t in titles]
    return document(sections, {"nproc": "2"}, "full", ("0.10", "0.20"), 3.0)


def test_a_partial_run_keeps_the_other_sections_and_the_analysis(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    write(out, _run("Cold start", "Warm", ms=111))
    out.write_text(out.read_text() + "Our analysis.\n")
    write(out, _run("Warm", ms=222))
    text = out.read_text()
    assert text.count("## Cold start") == 1 and text.count("## Warm") == 1
    cold, warm = text.split("## Warm")
    assert "111" in cold and "222" in warm and "111" not in warm
    assert text.index("## Cold start") < text.index("## Warm") < text.index(KEPT)
    assert text.endswith("Our analysis.\n") and text.count(KEPT) == 1
