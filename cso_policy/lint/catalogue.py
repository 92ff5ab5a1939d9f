"""The lint catalogue: rules (:class:`LintRule`), what a check reports (:class:`LintProblem`)
and what lint prints (:class:`LintFinding`).

The core's own rules (file formats, policy versions, time zone, holidays) are here; each
domain adds the rules of its own checks through ``cso_policy_lint_rules``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from attrs import frozen

from ..core.model import Level

CONTRACT_FORMAT = "contract format"
POLICY_FORMAT = "policy format"


@frozen(kw_only=True)
class LintRule:
    """A lint rule: its id (``contract.*`` or ``policy.*``), level, title and the clause it serves."""

    id: str
    level: Level
    title: str
    clause: str = CONTRACT_FORMAT


@frozen(kw_only=True)
class LintProblem:
    """What a lint check reports: the rule id, the message, and the key path it is about
    (``$.packages[1].tier``; lint turns it into file:line:col)."""

    rule: str
    message: str
    path: str | None = None


class LintProblems(list[LintProblem]):
    """The problems a lint check collects."""

    def add(self, rule: str, message: str, path: str | None = None) -> None:
        self.append(LintProblem(rule=rule, message=message, path=path))


@frozen(kw_only=True)
class LintFinding:
    rule: str
    level: Level
    file: str
    message: str
    path: str | None = None  # key path, e.g. $.packages[1].tier
    line: int | None = None
    column: int | None = None

    def location(self) -> str:
        """file:line:col where the key was found; the message names the key path anyway."""
        return f"{self.file}:{self.line}:{self.column or 1}" if self.line else self.file

    def as_dict(self) -> dict:
        return {"rule": self.rule, "level": str(self.level), "file": self.file, "line": self.line,
                "column": self.column, "path": self.path, "message": self.message}


CORE_LINT_RULES = (
    LintRule(id="contract.invalid_toml", level=Level.ERROR, title="The file is not valid TOML"),
    LintRule(id="contract.schema", level=Level.ERROR, title="A field is missing, unknown or of the wrong type"),
    LintRule(id="contract.unknown_policy", level=Level.ERROR, title="The pinned policy id@version does not exist"),
    LintRule(id="contract.term_order", level=Level.ERROR, title="The term does not end after it starts"),
    LintRule(id="contract.timezone", level=Level.ERROR, title="The time zone is not an IANA name", clause="Section 8"),
    LintRule(id="contract.holidays", level=Level.ERROR, title="Holiday country or subdivision unknown to the holidays package", clause="Section 8"),
    LintRule(id="contract.not_recognised", level=Level.ERROR, title="A file given to lint is neither a contract nor policy data"),
    LintRule(id="policy.invalid_toml", level=Level.ERROR, title="A policy file is not valid TOML", clause=POLICY_FORMAT),
    LintRule(id="policy.schema", level=Level.ERROR, title="A policy table is missing, unknown or of the wrong type", clause=POLICY_FORMAT),
    LintRule(id="policy.manifest", level=Level.ERROR, title="The manifest is incomplete or does not match its folder", clause=POLICY_FORMAT),
    LintRule(id="policy.source_hash", level=Level.ERROR, title="The source text's sha256 does not match the manifest", clause=POLICY_FORMAT),
    LintRule(id="policy.locked_version_changed", level=Level.ERROR, title="A locked (published) policy version changed", clause=POLICY_FORMAT),
)


def suggest(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'US'?`` for the closest of *choices* (compared case-insensitively), or ""."""
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""
