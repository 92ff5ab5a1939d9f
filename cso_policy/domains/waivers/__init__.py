"""The waivers domain: accepted exceptions (``waivers.toml``) and the ``waiver.*`` rules.

A default plugin: it registers exactly like a third-party one.
"""

from ...markers import hookimpl
from .waivers import EXPIRED, UNUSED, apply_waivers, load_waivers

__all__ = ["apply_waivers", "load_waivers"]


@hookimpl
def cso_policy_rules():
    return [EXPIRED, UNUSED]
