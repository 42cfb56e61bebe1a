"""journal entries say who acted (actor_id, actor_role)

Revision ID: 3b1f0c2a9d47
Revises: 06a402bdd894
Create Date: 2026-11-29 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b1f0c2a9d47"
down_revision: str | None = "06a402bdd894"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: the lines written before say nothing of who acted, and many events do not.
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("actor_role", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_column("actor_role")
        batch_op.drop_column("actor_id")
