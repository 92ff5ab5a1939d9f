"""Policy versions: the registry (loading and finding versions), their diff and their lock.

A default plugin: it ships the bundled policy folder through ``cso_policy_policy_paths``.
"""

from ..markers import hookimpl
from .registry import builtin_policy_root


@hookimpl
def cso_policy_policy_paths():
    return [builtin_policy_root()]
