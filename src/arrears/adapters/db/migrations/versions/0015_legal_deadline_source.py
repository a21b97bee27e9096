"""A legal case's deadline names what it is for by a key and keeps the rule's source.

The deadline a judgment starts came from one Chinese rule for every loan, stored as English
text, and stayed after enforcement was applied for or the track closed: it is now the loan's
pack's (`[deadlines.enforcement]`), `deadline_what` holds a catalogue key, `deadline_source`
the rule and its source, and enforcement and closing end it.

Revision ID: 0015_legal_deadline_source
Revises: 0014_content_findings
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_legal_deadline_source"
down_revision: str | None = "0014_content_findings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "enforcement application (民事诉讼法 Art. 250)"
_KEY = "enforcement_application"
_SOURCE = (
    "cn.enforcement_deadline: 《中华人民共和国民事诉讼法》(2023) 第二百五十条: "
    "申请执行的期间为二年，从法律文书规定履行期间的最后一日起计算"
)


def upgrade() -> None:
    """Add the source; the deadlines stored under the old text take its key and source; the
    deadlines of tracks past enforcement or closed are ended."""
    with op.batch_alter_table("legal_cases") as batch:
        batch.add_column(sa.Column("deadline_source", sa.Text(), nullable=True))
    cases = sa.table(
        "legal_cases",
        sa.column("step", sa.String()),
        sa.column("deadline", sa.Date()),
        sa.column("deadline_what", sa.Text()),
        sa.column("deadline_source", sa.Text()),
    )
    op.execute(
        cases.update()
        .where(cases.c.deadline_what == _OLD)
        .values(deadline_what=_KEY, deadline_source=_SOURCE)
    )
    op.execute(
        cases.update()
        .where(cases.c.step.in_(("enforcement", "closed")))
        .values(deadline=None, deadline_what=None, deadline_source=None)
    )


def downgrade() -> None:
    """Drop the source; the key goes back to the old text."""
    cases = sa.table("legal_cases", sa.column("deadline_what", sa.Text()))
    op.execute(cases.update().where(cases.c.deadline_what == _KEY).values(deadline_what=_OLD))
    with op.batch_alter_table("legal_cases") as batch:
        batch.drop_column("deadline_source")
