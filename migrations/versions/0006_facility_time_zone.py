"""facility time zone: every facility's own calendar day for expiry, dates and documents

Existing facilities get the configured default zone (SUPPLY_DEFAULT_TIME_ZONE, else
America/New_York); set each one's own zone afterwards (PATCH /facilities/{id}).

Revision ID: 0006_facility_time_zone
Revises: 0005_user_sessions
Create Date: 2026-11-29 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0006_facility_time_zone'
down_revision = '0005_user_sessions'
branch_labels = None
depends_on = None


def upgrade():
    zone = current_app.config['DEFAULT_TIME_ZONE']
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('time_zone', sa.String(length=64), server_default=zone, nullable=False)
        )


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): rebuilding facility would trip the foreign keys
    # that stock, orders and cases hold on it.
    op.drop_column('facility', 'time_zone')
