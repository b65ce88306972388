"""ui: a user's default facility, a facility's C9809 default, barcodes taught by users

Revision ID: 0010_ui
Revises: 0007_security
Create Date: 2026-11-29 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import supply_app.db


# revision identifiers, used by Alembic.
revision = '0010_ui'
down_revision = '0007_security'
branch_labels = None
depends_on = None

SOURCE_RULE = "source IN ('catalog', 'taught')"


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    # Plain ADD COLUMN, never a batch rebuild: app_user, facility and part are pointed at by
    # most tables. SQLite takes a foreign key or CHECK only as part of the new column.
    if sqlite:
        op.execute(
            'ALTER TABLE app_user ADD COLUMN default_facility_id INTEGER '
            'CONSTRAINT fk_app_user_default_facility_id_facility '
            'REFERENCES facility (id)'
        )
        op.execute(
            "ALTER TABLE part_gtin ADD COLUMN source VARCHAR(10) DEFAULT 'catalog' NOT NULL "
            f'CONSTRAINT ck_part_gtin_source CHECK ({SOURCE_RULE})'
        )
        op.execute(
            'ALTER TABLE part_gtin ADD COLUMN taught_by_id INTEGER '
            'CONSTRAINT fk_part_gtin_taught_by_id_app_user REFERENCES app_user (id)'
        )
    else:
        op.add_column('app_user', sa.Column('default_facility_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_app_user_default_facility_id_facility'),
            'app_user', 'facility', ['default_facility_id'], ['id'],
        )
        op.add_column(
            'part_gtin',
            sa.Column('source', sa.String(length=10), server_default='catalog', nullable=False),
        )
        op.create_check_constraint(op.f('ck_part_gtin_source'), 'part_gtin', SOURCE_RULE)
        op.add_column('part_gtin', sa.Column('taught_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_part_gtin_taught_by_id_app_user'),
            'part_gtin', 'app_user', ['taught_by_id'], ['id'],
        )
    op.add_column(
        'part_gtin',
        sa.Column('taught_at', supply_app.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        'facility',
        sa.Column(
            'bill_device_by_default', sa.Boolean(), server_default=sa.false(), nullable=False
        ),
    )


def downgrade():
    op.drop_column('facility', 'bill_device_by_default')
    op.drop_column('part_gtin', 'taught_at')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_part_gtin_taught_by_id_app_user'), 'part_gtin', type_='foreignkey')
        op.drop_constraint(op.f('ck_part_gtin_source'), 'part_gtin', type_='check')
        op.drop_constraint(
            op.f('fk_app_user_default_facility_id_facility'), 'app_user', type_='foreignkey'
        )
    op.drop_column('part_gtin', 'taught_by_id')
    op.drop_column('part_gtin', 'source')
    op.drop_column('app_user', 'default_facility_id')
