"""The borrower portal's one-time links and sessions (docs/PORTAL.md).

Revision ID: 0030_portal
Revises: 0029_sms_reply_parts
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_portal"
down_revision: str | None = "0029_sms_reply_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create portal_links and portal_sessions (empty)."""
    op.create_table(
        "portal_links",
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_portal_links_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("link_hash", name=op.f("pk_portal_links")),
    )
    op.create_index(
        op.f("ix_portal_links_borrower_id"), "portal_links", ["borrower_id"], unique=False
    )
    op.create_table(
        "portal_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_portal_sessions_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_portal_sessions")),
    )
    op.create_index(
        op.f("ix_portal_sessions_borrower_id"), "portal_sessions", ["borrower_id"], unique=False
    )


def downgrade() -> None:
    """Drop them (every link and session with them)."""
    op.drop_index(op.f("ix_portal_sessions_borrower_id"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_index(op.f("ix_portal_links_borrower_id"), table_name="portal_links")
    op.drop_table("portal_links")
