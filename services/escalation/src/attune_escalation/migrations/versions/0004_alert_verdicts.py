"""clinicians' verdicts per alert, with the model version (the feedback loop's labels)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_verdicts",
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rupture_type", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("markers", sa.JSON(), nullable=True),
        sa.Column("clinician", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id", "alert_id"),
    )
    op.create_index("ix_alert_verdicts_tenant_id", "alert_verdicts", ["tenant_id"])
    op.create_index("ix_alert_verdicts_model_version", "alert_verdicts", ["model_version"])


def downgrade() -> None:
    op.drop_index("ix_alert_verdicts_model_version", table_name="alert_verdicts")
    op.drop_index("ix_alert_verdicts_tenant_id", table_name="alert_verdicts")
    op.drop_table("alert_verdicts")
