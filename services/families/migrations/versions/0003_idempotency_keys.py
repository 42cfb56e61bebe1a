"""idempotency keys of creations

`POST /families` sent with an `Idempotency-Key`: the first answer is kept here, per caller
and key, and replayed to the retries. A new table only: nothing to fill on existing rows.

Revision ID: 133d1895e463
Revises: a4e600a16702
Create Date: 2026-11-29 13:30:16.469832
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "133d1895e463"
down_revision: str | None = "a4e600a16702"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("caller", "key"),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))
    op.drop_table("idempotency_keys")
