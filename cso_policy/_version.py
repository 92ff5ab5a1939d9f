"""The version of cso-policy, in one place."""

__version__ = "0.1.0"
