"""cso-policy: audit customer-success engagement records against contract terms."""

import pluggy

__version__ = "0.1.0"

PROJECT = "cso_policy"

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations: ``@hookimpl def cso_policy_rules(): ...``."""
