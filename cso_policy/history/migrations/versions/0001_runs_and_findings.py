"""The first schema: runs and their findings, append-only."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

# Stored runs are never rewritten: the database refuses to change or delete them.
SQLITE_GUARDS = [
    f"CREATE TRIGGER {table}_append_only_{what} BEFORE {what.upper()} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'stored audit runs are append-only'); END"
    for table in ("runs", "findings") for what in ("update", "delete")
]
POSTGRES_GUARDS = [
    "CREATE FUNCTION cso_policy_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'stored audit runs are append-only'; END $$",
    *(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
      f"FOR EACH ROW EXECUTE FUNCTION cso_policy_append_only()" for table in ("runs", "findings")),
]


def upgrade():
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String, nullable=False, index=True),
        sa.Column("ran_at", sa.String, nullable=False),
        sa.Column("ran_by", sa.String, nullable=False),
        sa.Column("tool_version", sa.String, nullable=False),
        sa.Column("as_of", sa.String, nullable=False),
        sa.Column("findings", sa.Integer, nullable=False),
        sa.Column("waived", sa.Integer, nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("amounts", sa.Text, nullable=False),  # JSON: currency -> amount
        sa.Column("record", sa.Text, nullable=False),  # JSON: the run's reproducible record
        sa.Column("summary", sa.Text, nullable=False),  # JSON: the report's summary
    )
    op.create_table(
        "findings",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("rule", sa.String, nullable=False),
        sa.Column("level", sa.String, nullable=False),
        sa.Column("contract", sa.String),
        sa.Column("record", sa.String),
        sa.Column("fingerprint", sa.String, nullable=False, index=True),
        sa.Column("waived", sa.Boolean, nullable=False),
        sa.Column("finding", sa.Text, nullable=False),  # JSON: the finding as the json report has it
    )
    guards = POSTGRES_GUARDS if op.get_bind().dialect.name == "postgresql" else SQLITE_GUARDS
    if op.get_bind().dialect.name in ("postgresql", "sqlite"):
        for statement in guards:
            op.execute(statement)
