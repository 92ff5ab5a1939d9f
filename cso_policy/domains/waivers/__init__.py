"""The waivers domain: accepted exceptions (``waivers.toml``) and the ``waiver.*`` rules.

A default plugin: it registers exactly like a third-party one.
"""

from ...markers import hookimpl
from .waivers import EXPIRED, UNUSED, WaiverSet, load_waivers

__all__ = ["WaiverSet", "load_waivers"]


@hookimpl
def cso_policy_rules():
    return [EXPIRED, UNUSED]
