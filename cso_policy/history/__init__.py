"""The audit history: every run kept (``audit --store``), listed by ``cso-policy history``.

The store itself (:mod:`cso_policy.history.store`) needs SQLAlchemy and Alembic; this package
imports neither, so the command line loads them only when a store is used."""

DEFAULT_URL = "sqlite:///audits.db"
"""The history store ``--store`` uses when it is given without a URL."""
