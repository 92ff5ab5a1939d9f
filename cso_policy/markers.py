"""The pluggy project name and markers (kept apart from ``cso_policy/__init__`` so that every
module can import them without importing the public API)."""

import pluggy

PROJECT = "cso_policy"

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations: ``@hookimpl def cso_policy_rules(): ...``."""

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marker for hook specifications (``cso_policy.hookspecs``)."""
