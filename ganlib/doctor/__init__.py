"""``doctor``: read a training run and say what is wrong with it, with evidence and a remedy.

``python -m ganlib doctor RUN`` (:mod:`ganlib.cli`) and :func:`diagnose` read the run directory's files
(:mod:`ganlib.doctor.evidence`: the config, the training data's record, the per-step health signals of
:mod:`ganlib.train.health`, the history's FCD, and samples classified by the shipped classifier), apply the
rules of :mod:`ganlib.doctor.rules` (one function per training problem, each with named thresholds and their
sources) and return a :class:`Report` of :class:`Finding` objects (:mod:`ganlib.doctor.report`), each pointing
to the section of ``notebooks/12_troubleshooting.ipynb`` that teaches it.

Example:
    >>> from ganlib.doctor import diagnose  # doctest: +SKIP
    >>> report = diagnose("runs/dcgan-mnist")  # doctest: +SKIP
    >>> [f.rule for f in report.findings if f.severity == "serious"]  # doctest: +SKIP
    []

Importing this package does not import TensorFlow; drawing samples (``samples`` > 0) does.
"""

from __future__ import annotations

from ganlib._lazy import lazy_exports

_EXPORTS = {
    "diagnose": "diagnosis",
    "Report": "report", "Finding": "report", "SEVERITIES": "report", "EXIT_SERIOUS": "report",
    "Evidence": "evidence", "SampleEvidence": "evidence", "read_evidence": "evidence", "signal_summary": "evidence",
    "RULES": "rules",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_EXPORTS)
