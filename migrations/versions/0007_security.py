"""security: one record per UI sign-in (revocable sessions); a serialised unit's batch

Revision ID: 0007_security
Revises: 0006_facility_time_zone
Create Date: 2026-11-29 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import supply_app.db


# revision identifiers, used by Alembic.
revision = '0007_security'
down_revision = '0006_facility_time_zone'
branch_labels = None
depends_on = None

BATCH_RULE = 'batch IS NULL OR serial IS NOT NULL'


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('created_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', supply_app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_session_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_session_token_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    # Not a batch rebuild: lot is pointed at by balances, movements and case supplies.
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a CHECK only as part of the column (which also lets DROP COLUMN work).
        op.execute(
            'ALTER TABLE lot ADD COLUMN batch VARCHAR(40) '
            f'CONSTRAINT ck_lot_batch_of_serial CHECK ({BATCH_RULE})'
        )
    else:
        op.add_column('lot', sa.Column('batch', sa.String(length=40), nullable=True))
        op.create_check_constraint(op.f('ck_lot_batch_of_serial'), 'lot', BATCH_RULE)
    op.create_index(op.f('ix_lot_batch'), 'lot', ['batch'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_lot_batch'), table_name='lot')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_lot_batch_of_serial'), 'lot', type_='check')
    op.drop_column('lot', 'batch')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
