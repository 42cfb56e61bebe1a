"""submissions: state "replaced", at most one waiting submission per subject

Revision ID: 3c6f0a9d2e41
Revises: b75bffe37821
Create Date: 2026-11-29 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c6f0a9d2e41"
down_revision: str | None = "b75bffe37821"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "state IN ('scanning', 'pending')"
SUBJECT = "family_id, document_type_id, coalesce(person_id, '')"


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint("state_known", type_="check")
        batch_op.create_check_constraint(
            "state_known", "state IN ('scanning', 'pending', 'accepted', 'refused', 'replaced')"
        )
    # Copies sent twice before this revision: the newest stays waiting, the older ones are
    # replaced and kept as long as a superseded copy (DOCUMENTS_SUPERSEDED_RETENTION_DAYS, 30).
    in_30_days = (
        "datetime('now', '+30 days')"
        if op.get_bind().dialect.name == "sqlite"
        else "CURRENT_TIMESTAMP + INTERVAL '30 days'"
    )
    # Built from this file's constants only: no input reaches the statement.
    op.execute(
        f"""
        UPDATE submissions SET state = 'replaced', purge_after = {in_30_days}
        WHERE {WAITING} AND id IN (
            SELECT id FROM (
                SELECT id, row_number() OVER (
                    PARTITION BY {SUBJECT} ORDER BY submitted_at DESC, id DESC
                ) AS newest_first
                FROM submissions WHERE {WAITING}
            ) AS ranked WHERE newest_first > 1
        )
        """  # noqa: S608
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_submissions_one_waiting",
            ["family_id", "document_type_id", sa.text("coalesce(person_id, '')")],
            unique=True,
            postgresql_where=sa.text(WAITING),
            sqlite_where=sa.text(WAITING),
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("uq_submissions_one_waiting")
    # A replaced copy was waiting when it was replaced; it can no longer be decided on.
    op.execute(
        "UPDATE submissions SET state = 'refused', refusal_reason = 'Remplacé par un envoi "
        "plus récent.' WHERE state = 'replaced'"
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint("state_known", type_="check")
        batch_op.create_check_constraint(
            "state_known", "state IN ('scanning', 'pending', 'accepted', 'refused')"
        )
