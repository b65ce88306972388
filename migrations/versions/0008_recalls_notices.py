"""recalls, returns to the vendor, notification preferences and the notice outbox

* recall, recall_lot: a recall notice and the lots it names (by part and lot number); while
  the recall is not released, its lots are on hold everywhere.
* vendor_return: a return_to_vendor movement's RGA number and date, its order line, and the
  vendor's credit once recorded.
* stock_movement.kind gains 'return_to_vendor' (the CHECK constraint, on both databases).
* notification_preference (address, daily digest yes/no) and notice (what is owed or sent,
  one row per user and digest day or recall notice, claimed before sending).

Revision ID: 0008_recalls_notices
Revises: 0007_security
Create Date: 2026-11-29 04:00:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa

import supply_app.db


# revision identifiers, used by Alembic.
revision = '0008_recalls_notices'
down_revision = '0007_security'
branch_labels = None
depends_on = None

KINDS = ('receipt', 'issue', 'adjustment', 'transfer_out', 'transfer_in', 'waste', 'reversal')
NEW_KINDS = KINDS + ('return_to_vendor',)


def _kinds_sql(kinds):
    return 'kind IN ({})'.format(', '.join(repr(k) for k in kinds))


def _set_movement_kinds(kinds):
    """Replace the CHECK on stock_movement.kind with one allowing `kinds`."""
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_stock_movement_kind'), 'stock_movement', type_='check')
        op.create_check_constraint(
            op.f('ck_stock_movement_kind'), 'stock_movement', _kinds_sql(kinds)
        )
        return
    pattern = re.compile(r'CONSTRAINT ck_stock_movement_kind CHECK \(kind IN \([^)]*\)\)')

    def edit(sql):
        if len(pattern.findall(sql)) != 1:
            raise RuntimeError('stock_movement has no single ck_stock_movement_kind to replace')
        return pattern.sub(f'CONSTRAINT ck_stock_movement_kind CHECK ({_kinds_sql(kinds)})', sql)

    supply_app.db.edit_sqlite_table_sql(bind, 'stock_movement', edit)


def upgrade():
    op.create_table('recall',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('notice_number', sa.String(length=40), nullable=False),
    sa.Column('notice_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('placed_by_id', sa.Integer(), nullable=True),
    sa.Column('placed_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', supply_app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("source IN ('manufacturer', 'fda', 'dla', 'distributor', 'other')", name=op.f('ck_recall_source')),
    sa.CheckConstraint("status IN ('open', 'closed', 'released')", name=op.f('ck_recall_status')),
    sa.CheckConstraint("(status = 'open') = (ended_at IS NULL)", name=op.f('ck_recall_ended_when_not_open')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['app_user.id'], name=op.f('fk_recall_ended_by_id_app_user')),
    sa.ForeignKeyConstraint(['placed_by_id'], ['app_user.id'], name=op.f('fk_recall_placed_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall')),
    sa.UniqueConstraint('source', 'notice_number', name=op.f('uq_recall_source_notice_number'))
    )
    op.create_table('recall_lot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recall_id', sa.Integer(), nullable=False),
    sa.Column('part_id', sa.Integer(), nullable=False),
    sa.Column('lot_number', sa.String(length=40), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['app_user.id'], name=op.f('fk_recall_lot_added_by_id_app_user')),
    sa.ForeignKeyConstraint(['part_id'], ['part.id'], name=op.f('fk_recall_lot_part_id_part')),
    sa.ForeignKeyConstraint(['recall_id'], ['recall.id'], name=op.f('fk_recall_lot_recall_id_recall')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_lot')),
    sa.UniqueConstraint('recall_id', 'part_id', 'lot_number', name=op.f('uq_recall_lot_recall_id_part_id_lot_number'))
    )
    with op.batch_alter_table('recall_lot', schema=None) as batch_op:
        batch_op.create_index('ix_recall_lot_part_lot', ['part_id', 'lot_number'], unique=False)

    op.create_table('vendor_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('movement_id', sa.Integer(), nullable=False),
    sa.Column('rga_number', sa.String(length=30), nullable=False),
    sa.Column('rga_date', sa.Date(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('credit_memo', sa.String(length=30), nullable=True),
    sa.Column('credited_on', sa.Date(), nullable=True),
    sa.Column('credited_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['credited_by_id'], ['app_user.id'], name=op.f('fk_vendor_return_credited_by_id_app_user')),
    sa.ForeignKeyConstraint(['movement_id'], ['stock_movement.id'], name=op.f('fk_vendor_return_movement_id_stock_movement')),
    sa.ForeignKeyConstraint(['order_line_id'], ['purchase_order_line.id'], name=op.f('fk_vendor_return_order_line_id_purchase_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_return')),
    sa.UniqueConstraint('movement_id', name=op.f('uq_vendor_return_movement_id'))
    )
    with op.batch_alter_table('vendor_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_return_rga_number'), ['rga_number'], unique=False)

    op.create_table('notification_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('daily_digest', sa.Boolean(), nullable=False),
    sa.Column('updated_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_preference_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preference'))
    )
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('recall_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', supply_app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', supply_app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('digest', 'recall')", name=op.f('ck_notice_kind')),
    sa.CheckConstraint("status IN ('pending', 'claimed', 'sent', 'failed')", name=op.f('ck_notice_status')),
    sa.ForeignKeyConstraint(['recall_id'], ['recall.id'], name=op.f('fk_notice_recall_id_recall')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notice_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    sa.UniqueConstraint('key', name=op.f('uq_notice_key'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_status_kind', ['status', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_user_id'), ['user_id'], unique=False)

    _set_movement_kinds(NEW_KINDS)


def downgrade():
    returned = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM stock_movement WHERE kind = 'return_to_vendor'"
    ).scalar()
    if returned:
        raise RuntimeError(
            f'{returned} return_to_vendor movements are in the ledger, which is append-only; '
            'this schema cannot hold them, so it is not downgraded.'
        )
    _set_movement_kinds(KINDS)
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_user_id'))
        batch_op.drop_index('ix_notice_status_kind')
    op.drop_table('notice')
    op.drop_table('notification_preference')
    with op.batch_alter_table('vendor_return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_return_rga_number'))
    op.drop_table('vendor_return')
    with op.batch_alter_table('recall_lot', schema=None) as batch_op:
        batch_op.drop_index('ix_recall_lot_part_lot')
    op.drop_table('recall_lot')
    op.drop_table('recall')
