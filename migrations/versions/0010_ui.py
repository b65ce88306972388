"""ui: a user's default facility, a facility's C9809 default, barcodes taught by users;
a case's code mix names the modifiers that change what it pays (52, 50)

Revision ID: 0010_ui
Revises: 0008_recalls_notices
Create Date: 2026-11-29 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import supply_app.db


# revision identifiers, used by Alembic.
revision = '0010_ui'
down_revision = '0008_recalls_notices'
branch_labels = None
depends_on = None

SOURCE_RULE = "source IN ('catalog', 'taught')"
PAYING_MODIFIERS = ('50', '52')
BATCH = 1000


def _mix(lines, with_modifiers):
    """A code mix from (code, modifiers, units) lines, as cases.pricing.code_mix makes it."""
    units = {}
    for code, modifiers, count in lines:
        paying = sorted(m for m in modifiers if m in PAYING_MODIFIERS) if with_modifiers else []
        key = '-'.join([code, *paying])
        units[key] = units.get(key, 0) + count
    return '+'.join(f'{code}x{n}' for code, n in sorted(units.items()))


def _recompute_code_mix(with_modifiers):
    """Rewrite each priced case's code mix from the lines of its stored priced claim."""
    bind = op.get_bind()
    case = sa.table(
        'procedure_case',
        sa.column('id', sa.Integer),
        sa.column('code_mix', sa.String),
        sa.column('pricing', sa.JSON),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(case.c.id, case.c.code_mix, case.c.pricing)
            .where(case.c.id > last)
            .order_by(case.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            lines = (row.pricing or {}).get('lines') or []
            if lines:
                mix = _mix(
                    ((ln['code'], ln.get('modifiers') or (), ln['units']) for ln in lines),
                    with_modifiers,
                )
                if mix != row.code_mix:
                    bind.execute(
                        sa.update(case).where(case.c.id == row.id).values(code_mix=mix)
                    )
        last = rows[-1].id


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
    _recompute_code_mix(with_modifiers=True)


def downgrade():
    _recompute_code_mix(with_modifiers=False)
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
