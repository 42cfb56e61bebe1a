"""submissions, files, document type rules, org document files

Revision ID: b75bffe37821
Revises: 621456e04fec
Create Date: 2026-11-28 16:49:27.409141
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b75bffe37821"
down_revision: str | None = "621456e04fec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("person_name", sa.String(length=200), nullable=False),
        sa.Column("document_type_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("scan_attempts", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purge_after", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('scanning', 'pending', 'accepted', 'refused')", name="state_known"
        ),
        sa.ForeignKeyConstraint(
            ["document_type_id"],
            ["document_types.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submissions_family_id"), ["family_id"], unique=False)
        batch_op.create_index(
            "ix_submissions_family_type",
            ["family_id", "document_type_id", "person_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_submissions_purge_after"), ["purge_after"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_submissions_state"), ["state"], unique=False)

    op.create_table(
        "submission_files",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("submission_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("storage_key"),
    )
    with op.batch_alter_table("submission_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_files_submission_id"), ["submission_id"], unique=False
        )

    with op.batch_alter_table("document_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("help_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("validity_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "accepted_formats",
                sa.JSON(),
                nullable=False,
                server_default='["pdf", "jpeg", "png"]',
            )
        )
        batch_op.add_column(
            sa.Column("all_activities", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("activity_ids", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("org_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("to_return", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("document_type_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("storage_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("content_type", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint("uq_org_documents_storage_key", ["storage_key"])
        batch_op.create_foreign_key(
            "fk_org_documents_document_type_id",
            "document_types",
            ["document_type_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("document_types", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "concerns_known", "concerns IN ('family', 'child', 'person')"
        )


def downgrade() -> None:
    with op.batch_alter_table("org_documents", schema=None) as batch_op:
        batch_op.drop_constraint("fk_org_documents_document_type_id", type_="foreignkey")
        batch_op.drop_constraint("uq_org_documents_storage_key", type_="unique")
        batch_op.drop_column("created_at")
        batch_op.drop_column("size")
        batch_op.drop_column("content_type")
        batch_op.drop_column("display_name")
        batch_op.drop_column("storage_key")
        batch_op.drop_column("document_type_id")
        batch_op.drop_column("to_return")
        batch_op.drop_column("description")
        batch_op.drop_column("published_until")

    with op.batch_alter_table("document_types", schema=None) as batch_op:
        batch_op.drop_constraint("concerns_known", type_="check")
        batch_op.drop_column("created_at")
        batch_op.drop_column("position")
        batch_op.drop_column("active")
        batch_op.drop_column("activity_ids")
        batch_op.drop_column("all_activities")
        batch_op.drop_column("accepted_formats")
        batch_op.drop_column("validity_days")
        batch_op.drop_column("help_text")

    with op.batch_alter_table("submission_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_files_submission_id"))

    op.drop_table("submission_files")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_state"))
        batch_op.drop_index(batch_op.f("ix_submissions_purge_after"))
        batch_op.drop_index("ix_submissions_family_type")
        batch_op.drop_index(batch_op.f("ix_submissions_family_id"))

    op.drop_table("submissions")
