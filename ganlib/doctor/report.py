"""What ``doctor`` says: findings (a rule's verdict, with evidence and a remedy) and the report that orders them.

A :class:`Finding` has a severity: ``"serious"`` (the run is not learning what it should: divergence, mode
collapse, a label ignored, a discriminator that has won; ``python -m ganlib doctor`` then exits 4),
``"warning"`` (the run trains but wastes effort or quality: oscillation, the wrong input range, a quality
plateau, Keras's default optimizer settings) or ``"note"`` (context: a check skipped, a run still training).
"""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("serious", "warning", "note")
"""From most to least serious; :attr:`Report.findings` is in this order."""

EXIT_SERIOUS = 4
"""The exit status of ``python -m ganlib doctor`` when a finding is serious (0 otherwise)."""

COURSE = "notebooks/12_troubleshooting.ipynb"
"""The course notebook that teaches each problem, one numbered section per problem."""


def course_section(number: int, title: str) -> str:
    """Where the course teaches a problem: ``"notebooks/12_troubleshooting.ipynb, section 3 (Mode collapse)"``."""
    return f"{COURSE}, section {number} ({title})"


@dataclass(frozen=True)
class Finding:
    """One problem a rule found in a run, or a note about the examination.

    Attributes:
        rule: the rule's name (``"mode_collapse"``), one of :data:`ganlib.doctor.rules.RULES`' names, or
            ``"doctor"`` for a note about the examination itself.
        severity: ``"serious"``, ``"warning"`` or ``"note"`` (see the module docstring).
        title: one line saying what is wrong.
        evidence: the numbers that show it, with their thresholds.
        remedy: what to change.
        section: the course section that teaches it (:func:`course_section`), or "".

    Raises:
        ValueError: an unknown severity.
    """

    rule: str
    severity: str
    title: str
    evidence: str
    remedy: str
    section: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"Expected severity one of {', '.join(SEVERITIES)}. Received: severity={self.severity!r}")

    def to_dict(self) -> dict[str, str]:
        """The finding as a JSON-able dict of its six fields."""
        return asdict(self)


@dataclass(frozen=True)
class Report:
    """The findings of :func:`ganlib.doctor.diagnose` on one run, most serious first.

    ``print(report)`` shows the human report; :meth:`to_dict` is the ``--json`` output.

    Attributes:
        run_dir: the run examined.
        findings: the findings, ordered by :data:`SEVERITIES` (the rules' order within a severity).
        summary: the signal summary the rules read (:func:`ganlib.doctor.evidence.signal_summary`), and what
            was sampled.
    """

    run_dir: str
    findings: list[Finding]
    summary: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ordered = sorted(self.findings, key=lambda f: SEVERITIES.index(f.severity))
        object.__setattr__(self, "findings", ordered)

    @property
    def healthy(self) -> bool:
        """True when no finding is ``"serious"`` or ``"warning"`` (notes allowed)."""
        return not any(f.severity in ("serious", "warning") for f in self.findings)

    @property
    def exit_code(self) -> int:
        """:data:`EXIT_SERIOUS` (4) when any finding is serious, else 0."""
        return EXIT_SERIOUS if any(f.severity == "serious" for f in self.findings) else 0

    def counts(self) -> dict[str, int]:
        """Findings per severity: ``{"serious": n, "warning": n, "note": n}``."""
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: ``run_dir``, ``healthy``, ``exit_code``, ``counts``, ``findings`` (dicts of
        :class:`Finding`'s fields) and ``summary``."""
        return {"run_dir": self.run_dir, "healthy": self.healthy, "exit_code": self.exit_code,
                "counts": self.counts(), "findings": [f.to_dict() for f in self.findings], "summary": self.summary}

    def __str__(self) -> str:
        width = 100
        head = self.summary.get("run", {})
        lines = [f"doctor: {self.run_dir}" + (f" ({head['description']})" if head.get("description") else "")]
        problems = [f for f in self.findings if f.severity != "note"]
        if not problems:
            lines.append("Healthy: no rule found a problem.")
        for f in self.findings:
            lines.append("")
            lines.append(f"{f.severity.upper()}  {f.rule}: {f.title}")
            for label, text in (("evidence", f.evidence), ("remedy", f.remedy), ("course", f.section)):
                if text:
                    lines += textwrap.wrap(text, width, initial_indent=f"  {label}: ",
                                           subsequent_indent=" " * (len(label) + 4), break_on_hyphens=False)
        c = self.counts()
        lines.append("")
        lines.append(f"{c['serious']} serious, {c['warning']} warning{'s' * (c['warning'] != 1)}, "
                     f"{c['note']} note{'s' * (c['note'] != 1)}; exit status {self.exit_code}.")
        return "\n".join(lines)


__all__ = ["COURSE", "EXIT_SERIOUS", "Finding", "Report", "SEVERITIES", "course_section"]
