"""Exit codes, in one place."""

from __future__ import annotations

from collections.abc import Iterable

from .core.model import Finding, Level

OK = 0
FINDINGS = 1
DIFFERENT = 1  # cso-policy verify: the run gives other results now
USAGE = 2

FAIL_ON_CHOICES = ("error", "warning", "info", "never")


def for_findings(findings: Iterable[Finding], fail_on: str) -> int:
    """1 when any finding not waived is at or above *fail_on*, else 0 (from the counts of a
    run's findings when they have them, without reading them again)."""
    if fail_on == "never":
        return OK
    threshold = Level.parse(fail_on)
    counts = getattr(findings, "counts", None)
    if counts is not None:
        highest = counts.highest()
        return FINDINGS if highest is not None and highest >= threshold else OK
    return FINDINGS if any(f.level >= threshold and not f.waived for f in findings) else OK
