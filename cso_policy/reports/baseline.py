"""`--baseline previous.json`: report only findings that are new since an earlier json report.

Findings are matched by fingerprint (contract, rule, record id, period), never by
file line, so a record that moves within its file is still known.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.model import fingerprint
from ..errors import ConfigError


def load_baseline(path: Path) -> set[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {item.get("fingerprint") or fingerprint(item) for item in document["findings"]}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read baseline ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: not a cso-policy json report ({exc})") from None
