"""account language

Revision ID: b2f41c7d9e10
Revises: 7365fa6c396c
Create Date: 2026-11-28 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2f41c7d9e10"
down_revision: str | None = "7365fa6c396c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing accounts read their e-mails in French, as before.
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=5), server_default="fr", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("language")
