"""The plugin manager: built-in plugins are registered exactly like third-party ones."""

from __future__ import annotations

import importlib

import pluggy

from . import PROJECT, hookspecs

DEFAULT_PLUGINS = (
    "cso_policy.rules.entitlement",
    "cso_policy.rules.billing",
    "cso_policy.rules.inputs",
    "cso_policy.sources",
    "cso_policy.reporters",
    "cso_policy.policy",
)


def get_plugin_manager(*, load_entrypoints: bool = False) -> pluggy.PluginManager:
    """A fresh manager with the hook specs and the default plugins (no global state)."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(PROJECT)
    return pm
