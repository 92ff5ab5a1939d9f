"""Errors that stop a run (exit code 2): bad usage, configuration or unreadable input."""


class CsoPolicyError(Exception):
    """Base class: the message is one line, shown to the user as is."""


class ConfigError(CsoPolicyError):
    """A contract, policy or workspace file is missing, unreadable or invalid."""


class UsageError(CsoPolicyError):
    """The command line asks for something that cannot be done."""
