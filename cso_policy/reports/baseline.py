"""`--baseline previous.json`: report only findings that are new since an earlier json report.

Findings are matched by fingerprint (contract, rule, record id, period), never by
file line, so a record that moves within its file is still known.

A baseline that cannot be used (unreadable, a folder or FIFO, not UTF-8, not JSON, nested too
deeply for the parser, not a json report, a finding without a string fingerprint or rule) is a
ConfigError: one line naming the file and what is wrong.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

from ..core.model import fingerprint
from ..errors import ConfigError
from ..inputs.toml import decode_utf8

_KEYS = ("contract", "record", "period", "lob", "message")


def load_baseline(path: Path) -> set[str]:
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{path}: cannot read baseline (is a folder)")
        if not stat.S_ISREG(mode):
            raise ConfigError(f"{path}: cannot read baseline (not a regular file)")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read baseline ({exc.strerror or exc})") from None
    text = decode_utf8(raw, path, "baseline")
    try:
        document = json.loads(text)
    except RecursionError:
        raise ConfigError(f"{path}: not a cso-policy json report (JSON nested too deeply)") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not a cso-policy json report (invalid JSON: {exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise ConfigError(f"{path}: not a cso-policy json report (no findings list)")
    found = set()
    for index, item in enumerate(document["findings"]):
        where = f"$.findings[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: not a cso-policy json report ({where}: a finding is not an object)")
        given = item.get("fingerprint")
        if given is not None:
            if not isinstance(given, str) or not given:
                raise ConfigError(f"{path}: not a cso-policy json report ({where}.fingerprint: expected a string)")
            found.add(given)
            continue
        if not isinstance(item.get("rule"), str):
            raise ConfigError(f"{path}: not a cso-policy json report ({where}.rule: expected a string; a finding needs a fingerprint or a rule)")
        for key in _KEYS:
            if item.get(key) is not None and not isinstance(item[key], str):
                raise ConfigError(f"{path}: not a cso-policy json report ({where}.{key}: expected a string or null)")
        found.add(fingerprint(item))
    return found
