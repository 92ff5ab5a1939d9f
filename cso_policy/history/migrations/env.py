"""Alembic's environment for the history store: runs on the connection the store gives it."""

from alembic import context

from cso_policy.history.store import METADATA

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=METADATA)
with context.begin_transaction():
    context.run_migrations()
