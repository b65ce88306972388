"""user sessions: an epoch in every UI session id, so deactivation ends them

Revision ID: 0005_user_sessions
Revises: 0004_cases
Create Date: 2026-11-27 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_user_sessions'
down_revision = '0004_cases'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild of app_user would fail its
    # foreign keys once memberships, tokens or audit rows point at it.
    op.drop_column('app_user', 'session_epoch')
