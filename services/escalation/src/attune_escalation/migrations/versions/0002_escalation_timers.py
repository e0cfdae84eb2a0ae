"""escalation chains, timers as rows, team round-robin, leases, notification priority

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("assignees", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("first_paged_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "escalation_timers",
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id", "purpose"),
    )
    op.create_index("ix_escalation_timers_due_at", "escalation_timers", ["due_at"])
    op.create_table(
        "team_cursors",
        sa.Column("team", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute("INSERT INTO leases (name) VALUES ('outbox')")


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("team_cursors")
    op.drop_index("ix_escalation_timers_due_at", table_name="escalation_timers")
    op.drop_table("escalation_timers")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("priority")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("first_paged_at")
        batch_op.drop_column("assignees")
        batch_op.drop_column("chain")
