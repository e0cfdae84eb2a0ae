"""the client's engagement per reply (numbers only), for the console's chart

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engagement_points",
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply_length_ratio", sa.Float(), nullable=True),
        sa.Column("reply_latency_ratio", sa.Float(), nullable=True),
        sa.Column("minimal_response_streak", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("assessment_id"),
    )
    op.create_index(
        "ix_engagement_points_conversation",
        "engagement_points",
        ["tenant_id", "conversation_id", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_engagement_points_conversation", table_name="engagement_points")
    op.drop_table("engagement_points")
