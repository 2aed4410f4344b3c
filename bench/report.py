"""Rows of the side-by-side comparison and the Markdown they become.

Machines here are noisy, so a row carries medians and p95s, never one absolute time, and
the number that matters is the ratio to the alternative measured in the same run.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Stat = Literal["p50", "p95", "ratio"]


@dataclass(frozen=True)
class Summary:
    """n, median and p95 of one series (p95 equals the median for a single value)."""

    n: int
    p50: float
    p95: float

    @classmethod
    def of(cls, samples: list[float]) -> Summary:
        if not samples:
            raise ValueError("no samples")
        p95 = statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]
        return cls(len(samples), statistics.median(samples), p95)

    @classmethod
    def ms(cls, seconds: list[float]) -> Summary:
        return cls.of([s * 1000 for s in seconds])


@dataclass(frozen=True)
class Target:
    """`stat` of the row must be at most `limit`; `text` is how the brief words it."""

    stat: Stat
    limit: float
    text: str


@dataclass
class Row:
    """One measured thing, optionally next to what a user would otherwise run."""

    what: str
    ours: Summary
    unit: str = "ms"
    alternative: str | None = None
    theirs: Summary | None = None
    target: Target | None = None
    quoted: bool = False  # the alternative is a documented figure, not run here

    @property
    def ratio(self) -> float | None:
        if self.theirs is None or self.theirs.p50 == 0:
            return None
        # A negative delay (a notification before the command returned) counts as none.
        return max(self.ours.p50, 0.0) / self.theirs.p50

    def actual(self, stat: Stat) -> float | None:
        return {"p50": self.ours.p50, "p95": self.ours.p95, "ratio": self.ratio}[stat]

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        value = self.actual(self.target.stat)
        return None if value is None else value <= self.target.limit

    def verdict(self) -> str:
        """`yes`, or `NO` with how far off (percent or factor over the limit)."""
        if self.target is None or self.met is None:
            return "—"
        if self.met:
            return "yes"
        value = self.actual(self.target.stat)
        assert value is not None
        over = value / self.target.limit if self.target.limit else float("inf")
        by = f"{(over - 1) * 100:.1f} % over" if over < 1.5 else f"{over:.1f}x the limit"
        return f"**NO** ({by})"


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _num(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.1f} ms" if abs(value) < 100 else f"{value:.0f} ms"
    return f"{value:.2f} {unit}" if abs(value) < 10 else f"{value:.1f} {unit}"


def table(rows: list[Row]) -> str:
    out = [
        "| what | n | median | p95 | alternative | alt. median | ratio | target | met? |",
        "|---|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for r in rows:
        theirs = r.theirs
        alt_n = "quoted" if r.quoted else (f"n={theirs.n}" if theirs else "")
        alt = f"{r.alternative} ({alt_n})" if r.alternative else "—"
        ratio = f"{r.ratio:.3g}x" if r.ratio is not None else "—"
        p95 = _num(r.ours.p95, r.unit) if r.ours.n >= 2 else "—"
        out.append(
            f"| {r.what} | {r.ours.n} | {_num(r.ours.p50, r.unit)} | {p95} | {alt} "
            f"| {_num(theirs.p50, r.unit) if theirs else '—'} | {ratio} "
            f"| {r.target.text if r.target else '—'} | {r.verdict()} |"
        )
    return "\n".join(out)


def machine_facts() -> dict[str, str]:
    """What the numbers depend on: cores, CPU, kernel, Python, Docker."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo").read().splitlines()  # noqa: SIM115
            if line.startswith("model name")
        ),
        "unknown",
    )
    versions = subprocess.run(
        [
            "docker",
            "version",
            "--format",
            "{{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}",
        ],
        capture_output=True,
        text=True,
    )
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "docker": versions.stdout.strip() or versions.stderr.strip(),
    }


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


SECTION = "## "
KEPT = "<!-- Below this line: hand-written analysis, kept when the bench rewrites the file. -->"


def document(
    sections: list[Section],
    facts: dict[str, str],
    profile: str,
    loads: tuple[str, str],
    seconds: float,
) -> str:
    """The generated part of results.md: machine facts, then one table per section, each
    stamped with its run (a run of some sections keeps the others' tables: `write`)."""
    when = time.strftime("%d %b %Y, %H:%M UTC", time.gmtime())
    lines = [
        "# Benchmarks: containai-rpc against what a user would otherwise run",
        "",
        f"Generated by `make bench{' ARGS=--quick' if profile == 'quick' else ''}` "
        "(`python -m bench`; `ARGS=\"--only warm\"` reruns one section and keeps the other "
        "tables). Medians and p95 of repeated runs; *ratio* = our median / the alternative's "
        "median, measured in the same run on the same machine (below 1 = we are faster).",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts.items()),
        "",
    ]
    for section in sections:
        lines += [f"{SECTION}{section.title}", ""]
        lines += [
            f"_Run of {when}, profile **{profile}**, {seconds:.0f} s; load average "
            f"(1/5/15 min) {loads[0]} at start, {loads[1]} at end._",
            "",
            table(section.rows),
            "",
        ]
        lines += [f"- {note}" for note in section.notes]
        if section.notes:
            lines.append("")
    return "\n".join(lines)


def _split(generated: str) -> tuple[str, dict[str, str]]:
    """The header, and each section's text by its heading line, in order."""
    head, *parts = generated.split(f"\n{SECTION}")
    return head, {p.split("\n", 1)[0]: f"{SECTION}{p}" for p in parts}


def write(path: Path, generated: str) -> None:
    """Replace the generated header and the sections just run; keep the other sections'
    tables (from their own earlier runs) and the hand-written analysis."""
    kept, earlier = "", {}
    if path.exists():
        old = path.read_text()
        before, marker, after = old.partition(KEPT)
        kept = marker + after
        earlier = _split(before.rstrip("\n"))[1]
    head, fresh = _split(generated)
    merged = {title: fresh.get(title, text) for title, text in earlier.items()}
    merged.update({t: text for t, text in fresh.items() if t not in merged})
    body = "\n".join(text.rstrip("\n") + "\n" for text in merged.values())
    path.write_text(f"{head.rstrip()}\n\n{body}\n{kept or KEPT + chr(10)}")
