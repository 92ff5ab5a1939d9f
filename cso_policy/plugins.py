"""The plugin manager: built-in plugins are registered exactly like third-party ones.

Every built-in domain, record source and report format is a default plugin
(:data:`DEFAULT_PLUGINS`); third-party plugins come from the ``cso_policy`` entry-point group
(unless ``CSO_POLICY_DISABLE_PLUGIN_AUTOLOAD`` is set), from ``--plugin`` and from
``plugins = [...]`` in ``cso-policy.toml`` (workspace plugins: code the workspace brings, run
only when the user trusts it, see :func:`workspace_plugins_allowed`). Each run gets a fresh
manager. A plugin that fails to import (even with ``SystemExit``), implements a hook that does
not exist (a misspelling) or implements none at all, is recorded as a :class:`PluginProblem` and
the run goes on without it. What a plugin prints while it is imported or runs goes to stderr,
never into a report on stdout (:func:`plugin_output_to_stderr`).
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata
import importlib.util
import contextlib
import os
import pkgutil
import sys
from pathlib import Path

import pluggy
from attrs import frozen

from . import hookspecs
from .markers import PROJECT

SOURCES = ("cso_policy.inputs.jsonl", "cso_policy.inputs.csv", "cso_policy.inputs.sql", "cso_policy.inputs.parquet")
POLICIES = ("cso_policy.policy",)


def _discover(package_name: str) -> tuple[str, ...]:
    """The modules (or subpackages) of *package_name* that implement a hook, sorted: adding a
    domain is adding a package under ``domains/``, adding a format a module under ``reports/``."""
    package = importlib.import_module(package_name)
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package_name}.{info.name}")
        if any(name.startswith("cso_policy_") for name in vars(module)):
            found.append(module.__name__)
    return tuple(sorted(found))


@functools.cache
def default_plugins() -> tuple[str, ...]:
    """The built-in plugins, registered in this order: the domains, the JSON Lines source, the
    report formats, the bundled policy data (found on first use, not on import)."""
    return _discover("cso_policy.domains") + SOURCES + _discover("cso_policy.reports") + POLICIES


def __getattr__(name: str):
    if name == "DEFAULT_PLUGINS":  # the tuple, computed when first asked for
        return default_plugins()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

ENTRY_POINT_GROUP = PROJECT
DISABLE_AUTOLOAD_ENV = "CSO_POLICY_DISABLE_PLUGIN_AUTOLOAD"
# The user's own environment (never the workspace's config) trusts workspace plugins.
TRUST_WORKSPACE_ENV = "CSO_POLICY_TRUST_WORKSPACE_PLUGINS"


def workspace_plugins_allowed(flag: bool = False) -> bool:
    """Whether the plugins a workspace names (``plugins = [...]`` in its ``cso-policy.toml``)
    may run: ``--allow-workspace-plugins`` (*flag*) says so explicitly; otherwise
    ``CSO_POLICY_TRUST_WORKSPACE_PLUGINS=1`` does, unless ``CSO_POLICY_DISABLE_PLUGIN_AUTOLOAD``
    stops every automatic load."""
    if flag:
        return True
    if os.environ.get(DISABLE_AUTOLOAD_ENV):
        return False
    return os.environ.get(TRUST_WORKSPACE_ENV, "").strip().lower() in ("1", "true", "yes")


class _Failed(Exception):
    """A plugin failed to load; the message is the problem."""


@frozen
class PluginProblem:
    """A plugin that failed: which one, where (import or a hook), and the error."""

    plugin: str
    hook: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.plugin}: {self.hook} failed: {self.error}"


@frozen
class PluginInfo:
    name: str
    origin: str  # "builtin", "entry point <dist> <version>", or the module/path given
    version: str | None = None


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus what cso-policy reports about plugins: where each came
    from, and which failed (import or hook errors)."""

    def __init__(self):
        super().__init__(PROJECT)
        self.problems: list[PluginProblem] = []
        self.info: dict[str, PluginInfo] = {}

    def plugin_info(self, name: str) -> PluginInfo:
        if name in default_plugins():
            return PluginInfo(name, "builtin")
        return self.info.get(name, PluginInfo(name, "registered"))

    def check_hooks(self) -> None:
        """A plugin that implements a hook no spec declares (``cso_policy_rule`` for
        ``cso_policy_rules``), or defines a ``cso_policy_*`` function without ``@hookimpl``, is
        a problem, and it is unregistered so that nothing of it half-runs. pluggy's
        ``check_pending()`` then confirms that every hook implementation has its spec."""
        known = sorted(name for name in vars(hookspecs) if name.startswith(HOOK_PREFIX))
        for name, caller in sorted(vars(self.hook).items()):
            if not name.startswith(HOOK_PREFIX) or caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if not impl.optionalhook and self.is_registered(impl.plugin):
                    self._refuse(impl.plugin_name, impl.plugin, f"{name} is not a hook{_did_you_mean(name, known)}")
        for plugin_name, plugin in list(self.list_name_plugin()):
            if plugin_name in default_plugins() or plugin is None:
                continue
            for attr in sorted(vars(plugin) if hasattr(plugin, "__dict__") else ()):
                value = getattr(plugin, attr, None)
                if attr.startswith(HOOK_PREFIX) and callable(value) and self.parse_hookimpl_opts(plugin, attr) is None:
                    self._refuse(plugin_name, plugin, f"{attr} is not marked @hookimpl, so it would never be called"
                                 + ("" if attr in known else f" (and is not a hook{_did_you_mean(attr, known)})"))
                    break
        self.check_pending()

    def _refuse(self, name: str, plugin, why: str) -> None:
        if self.is_registered(plugin):
            self.unregister(plugin)
        self.problems.append(PluginProblem(name, "hooks", f"{why}; the plugin was left out"))


HOOK_PREFIX = "cso_policy_"


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def get_plugin_manager(*, load_entrypoints: bool = False) -> PluginManager:
    """A fresh manager with the hook specs and the default plugins (no global state)."""
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    for name in default_plugins():
        pm.register(importlib.import_module(name), name=name)
    if load_entrypoints:
        load_entrypoint_plugins(pm)
    pm.check_hooks()
    return pm


@functools.cache
def builtin_policy_modules() -> dict:
    """name -> PolicyModule of the built-in domains (for loading policies outside a run)."""
    pm = get_plugin_manager()
    return {m.name: m for found in pm.hook.cso_policy_policy_modules() for m in found}


def load_entrypoint_plugins(pm: PluginManager) -> None:
    if os.environ.get(DISABLE_AUTOLOAD_ENV):
        return
    found = pm.problems
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if pm.has_plugin(ep.name) or pm.is_blocked(ep.name):
            continue
        dist = getattr(ep, "dist", None)
        version = dist.version if dist is not None else None
        try:
            with plugin_output_to_stderr():
                plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except (Exception, SystemExit) as exc:  # a broken plugin must not stop the run
            found.append(PluginProblem(ep.name, "import", describe(exc)))
            continue
        origin = f"entry point of {dist.name} {version}" if dist is not None else "entry point"
        pm.info[ep.name] = PluginInfo(ep.name, origin, version)


def load_local_plugins(pm: PluginManager, specs, base: Path = Path("."), *, confine: bool = False) -> None:
    """Register plugins named as a module (``acme.rules``) or a file (``plugins/acme.py``).
    With *confine* (a workspace's plugins), a file must resolve inside *base*. A module must
    be a plugin: it defines at least one ``cso_policy_*`` function."""
    found = pm.problems
    for spec in specs:
        spec = str(spec)
        name = Path(spec).stem if spec.endswith(".py") else spec
        if pm.has_plugin(name):
            continue
        try:
            with plugin_output_to_stderr():  # a print at import must not reach a report
                if spec.endswith(".py"):
                    path = base / spec if not Path(spec).is_absolute() else Path(spec)
                    if confine and not _inside(path, base):
                        raise _Failed(f"{spec} is outside the workspace folder {base}; the plugin was left out")
                    module = _import_file(path, name)
                else:
                    module = importlib.import_module(spec)
            if not _implements_hooks(module):
                raise _Failed(f"{spec} is not a cso-policy plugin (it defines no {HOOK_PREFIX}* hook); "
                              "the plugin was left out")
            pm.register(module, name=name)
        except _Failed as exc:
            found.append(PluginProblem(name, "import", str(exc)))
            continue
        except (Exception, SystemExit) as exc:
            found.append(PluginProblem(name, "import", describe(exc)))
            continue
        pm.info[name] = PluginInfo(name, spec, getattr(module, "__version__", None))


def describe(exc: BaseException) -> str:
    """What a plugin raised, for a plugin.error: ``ValueError: boom``; a ``sys.exit`` says so."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: the plugin called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}"


def _real_stdout() -> bool:
    """Whether ``sys.stdout`` writes to the process's file descriptor 1 (not a test runner's
    stream, nor already redirected)."""
    try:
        return sys.stdout is not None and sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def plugin_output_to_stderr(*, fd: bool = True):
    """While plugins load and run: what they write to stdout goes to stderr, so that stdout holds
    the report alone. ``print`` (``sys.stdout``) always; with *fd*, when ``sys.stdout`` is the
    process's own stdout, also what is written to file descriptor 1 itself (``os.write(1, ...)``,
    C code, a forked ``--jobs`` process), by pointing it at stderr until the block ends. Nested
    uses are cheap: the inner one finds stdout already redirected."""
    saved = None
    original = sys.stdout
    if fd and _real_stdout() and sys.stderr is not None:
        with contextlib.suppress(Exception):
            original.flush()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        try:
            saved = os.dup(1)
            os.dup2(2, 1)
        except OSError:  # no stderr to point it at: the Python-level redirect only
            if saved is not None:
                os.close(saved)
            saved = None
    try:
        if sys.stderr is None:
            yield
        else:
            with contextlib.redirect_stdout(sys.stderr):
                yield
    finally:
        if saved is not None:
            # what a plugin left in the buffer of the original stdout object goes to stderr too
            with contextlib.suppress(Exception):
                original.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _inside(path: Path, base: Path) -> bool:
    try:
        path.resolve().relative_to(base.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _implements_hooks(module) -> bool:
    return any(name.startswith(HOOK_PREFIX) for name in dir(module))


def _import_file(path: Path, name: str):
    if not path.is_file():
        raise FileNotFoundError(f"no such plugin file {path}")
    module_name = f"cso_policy_local_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
