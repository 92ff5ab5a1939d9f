"""The lint catalogue: rules (:class:`LintRule`), what a check reports (:class:`LintProblem`)
and what lint prints (:class:`LintFinding`).

The core's own rules (file formats, policy versions, time zone, holidays) are here; each
domain adds the rules of its own checks through ``cso_policy_lint_rules``.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from zoneinfo import available_timezones

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
    LintRule(id="waivers.schema", level=Level.ERROR, title="A waivers file has a waiver that is not valid"),
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


# the regions of the IANA zone names people mean; a bare city name prefers them to US/..., Etc/...
_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")


@functools.lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones(), key=lambda z: (not z.startswith(_REGIONS), z)))


def _zone_key(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split()).replace(" ", "_")


def suggest_timezone(name: str) -> str:
    """``; did you mean 'Europe/Berlin'?`` for a time zone name tzdata does not know: the zone
    spelled alike (case, spaces for underscores), the zone whose last part is *name*
    (``Berlin``, ``New York``), else the closest full name or last part; or ""."""
    zones = _zones()
    if not zones:
        return ""
    key = _zone_key(name)
    full = {}
    for z in zones:
        full.setdefault(_zone_key(z), z)
    last: dict[str, str] = {}
    for z in zones:
        last.setdefault(_zone_key(z.rsplit("/", 1)[-1]), z)
    hit = full.get(key) or last.get(_zone_key(key.rsplit("/", 1)[-1]))
    if hit is None:
        close = difflib.get_close_matches(key, list(full), n=1, cutoff=0.8)
        hit = full[close[0]] if close else None
    if hit is None:
        close = difflib.get_close_matches(_zone_key(key.rsplit("/", 1)[-1]), list(last), n=1, cutoff=0.8)
        hit = last[close[0]] if close else None
    return f"; did you mean {hit!r}?" if hit and hit != name else ""


def _holiday_countries() -> dict[str, str]:
    """Lower-case names of the holidays package's countries (code, alpha-3 code, name) -> code."""
    names: dict[str, str] = {}
    try:
        from holidays.registry import COUNTRIES
    except ImportError:  # the registry is the package's own; without it, codes only
        return names
    for module, entry in COUNTRIES.items():
        class_name, code, *rest = entry
        for alias in (code, *[r for r in rest if isinstance(r, str) and len(r) == 3 and r.isupper()],
                      module.replace("_", " "), class_name):
            names.setdefault(alias.lower(), code)
    return names


def suggest_country(value: str, supported: Iterable[str]) -> str:
    """``; did you mean 'DE'?`` for a holiday country by code (any case), alpha-3 code or
    English name (``Germany``), else the closest of those; or ""."""
    supported = set(supported)
    names = {k: v for k, v in _holiday_countries().items() if v in supported}
    for code in supported:
        names.setdefault(code.lower(), code)
    key = " ".join(value.strip().lower().replace("_", " ").split())
    hit = names.get(key) or names.get(key.replace(" ", ""))
    if hit is None:
        close = difflib.get_close_matches(key, list(names), n=1)
        hit = names[close[0]] if close else None
    return f"; did you mean {hit!r}?" if hit and hit != value else ""


def suggest_subdivision(country: str, value: str, subdivisions: Iterable[str]) -> str:
    """``; did you mean 'NY'?`` for a subdivision of *country* by code (any case) or name
    (``New York``, ``Bayern``: the holidays package's aliases), else the closest; or ""."""
    import holidays

    names = {s.lower(): s for s in subdivisions}
    aliases = getattr(getattr(holidays, country, None), "subdivisions_aliases", None) or {}
    for alias, code in aliases.items():
        if isinstance(alias, str) and code in subdivisions:
            names.setdefault(alias.lower(), code)
    key = value.strip().lower()
    hit = names.get(key)
    if hit is None:
        close = difflib.get_close_matches(key, list(names), n=1)
        hit = names[close[0]] if close else None
    return f"; did you mean {hit!r}?" if hit and hit != value else ""
