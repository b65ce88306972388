"""payers: payer categories with fee tables, a case's payer and expected collection beside
the Medicare benchmark, equipment cost per case, a facility's wage index and default payer,
and 0441T as a code a case may bill

Revision ID: 0011_payers
Revises: 0010_ui
Create Date: 2026-11-29 06:30:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa

import supply_app.db


# revision identifiers, used by Alembic.
revision = '0011_payers'
down_revision = '0010_ui'
branch_labels = None
depends_on = None

OLD_CODES = "code IN ('64640', '64624', 'C9809')"
NEW_CODES = "code IN ('64640', '64624', '0441T', 'C9809')"
MEDICARE = 'Medicare national'
# New columns: (table, name, type, SQL type, NOT NULL once filled, column constraint).
COLUMNS = (
    ('facility', 'default_payer_id', sa.Integer(), 'INTEGER', True,
     'CONSTRAINT fk_facility_default_payer_id_payer REFERENCES payer (id)'),
    ('facility', 'wage_index', sa.Integer(), 'INTEGER', False,
     'CONSTRAINT ck_facility_wage_index CHECK (wage_index BETWEEN 1 AND 99999)'),
    ('procedure_case', 'payer_id', sa.Integer(), 'INTEGER', True,
     'CONSTRAINT fk_procedure_case_payer_id_payer REFERENCES payer (id)'),
    ('procedure_case', 'payer_revision', sa.Integer(), 'INTEGER', True, ''),
    ('procedure_case', 'billed', sa.Boolean(), 'BOOLEAN', True, ''),
    ('procedure_case', 'collection_cents', sa.BigInteger(), 'BIGINT', True,
     'CONSTRAINT ck_procedure_case_collection_not_negative CHECK (collection_cents >= 0)'),
    ('procedure_case', 'collection_complete', sa.Boolean(), 'BOOLEAN', True, ''),
    ('procedure_case', 'collection', sa.JSON(), 'JSON', True, ''),
    ('procedure_case', 'wage_index', sa.Integer(), 'INTEGER', False, ''),
    ('procedure_case', 'handpiece_serial', sa.String(length=20), 'VARCHAR(20)', False, ''),
    ('procedure_case', 'equipment_cents', sa.BigInteger(), 'BIGINT', True,
     'CONSTRAINT ck_procedure_case_equipment_not_negative CHECK (equipment_cents >= 0)'),
)


def _create_tables():
    op.create_table('payer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('percent_hundredths', sa.Integer(), nullable=True),
    sa.Column('medicare_rules', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("basis IN ('medicare_national', 'medicare_locality', 'percent_of_medicare', 'fee_table', 'not_billed')", name=op.f('ck_payer_basis')),
    sa.CheckConstraint('percent_hundredths IS NULL OR percent_hundredths BETWEEN 0 AND 100000', name=op.f('ck_payer_percent')),
    sa.CheckConstraint("basis <> 'percent_of_medicare' OR percent_hundredths IS NOT NULL", name=op.f('ck_payer_percent_given')),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_payer_revision')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payer')),
    sa.UniqueConstraint('name', name=op.f('uq_payer_name'))
    )
    op.create_table('payer_fee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=5), nullable=False),
    sa.Column('site_of_service', sa.String(length=10), nullable=False),
    sa.Column('component', sa.String(length=12), nullable=False),
    sa.Column('modifier', sa.String(length=2), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.CheckConstraint("code IN ('64640', '64624', '0441T', 'C9809')", name=op.f('ck_payer_fee_code')),
    sa.CheckConstraint("site_of_service IN ('HOPD', 'ASC', 'office')", name=op.f('ck_payer_fee_site_of_service')),
    sa.CheckConstraint("component IN ('facility', 'professional', 'device')", name=op.f('ck_payer_fee_component')),
    sa.CheckConstraint("modifier IN ('', '50', '52')", name=op.f('ck_payer_fee_modifier')),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_payer_fee_amount_not_negative')),
    sa.CheckConstraint('effective_to IS NULL OR effective_to >= effective_from', name=op.f('ck_payer_fee_dates')),
    sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], name=op.f('fk_payer_fee_payer_id_payer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payer_fee')),
    sa.UniqueConstraint('payer_id', 'code', 'site_of_service', 'component', 'modifier', 'effective_from', name='uq_payer_fee_row')
    )
    with op.batch_alter_table('payer_fee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payer_fee_payer_id'), ['payer_id'], unique=False)
    op.create_table('equipment_cost',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('acquisition_cents', sa.BigInteger(), nullable=False),
    sa.Column('salvage_cents', sa.BigInteger(), nullable=False),
    sa.Column('life_years', sa.Integer(), nullable=False),
    sa.Column('cases_per_year', sa.Integer(), nullable=False),
    sa.Column('per_case_cents', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', supply_app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('acquisition_cents >= 0', name=op.f('ck_equipment_cost_acquisition_not_negative')),
    sa.CheckConstraint('salvage_cents BETWEEN 0 AND acquisition_cents', name=op.f('ck_equipment_cost_salvage')),
    sa.CheckConstraint('life_years BETWEEN 1 AND 30', name=op.f('ck_equipment_cost_life_years')),
    sa.CheckConstraint('cases_per_year BETWEEN 1 AND 100000', name=op.f('ck_equipment_cost_cases_per_year')),
    sa.CheckConstraint('per_case_cents >= 0', name=op.f('ck_equipment_cost_per_case_not_negative')),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_equipment_cost_facility_id_facility')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'], name=op.f('fk_equipment_cost_updated_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment_cost')),
    sa.UniqueConstraint('facility_id', 'serial', name=op.f('uq_equipment_cost_facility_id_serial'))
    )


def _add_columns(sqlite):
    """Every new column, nullable until filled. SQLite takes a key or CHECK only with the
    column, and a NOT NULL only once rows satisfy it (set in _require)."""
    for table, name, type_, sql_type, _, constraint in COLUMNS:
        if sqlite:
            op.execute(f'ALTER TABLE {table} ADD COLUMN {name} {sql_type} {constraint}'.rstrip())
        else:
            op.add_column(table, sa.Column(name, type_, nullable=True))
    # A plain flag with a default: both databases add it the same way.
    op.add_column(
        'facility',
        sa.Column('bills_0441t', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    if not sqlite:
        op.create_foreign_key(
            op.f('fk_facility_default_payer_id_payer'), 'facility', 'payer',
            ['default_payer_id'], ['id'],
        )
        op.create_foreign_key(
            op.f('fk_procedure_case_payer_id_payer'), 'procedure_case', 'payer',
            ['payer_id'], ['id'],
        )
        op.create_check_constraint(
            op.f('ck_facility_wage_index'), 'facility', 'wage_index BETWEEN 1 AND 99999'
        )
        op.create_check_constraint(
            op.f('ck_procedure_case_collection_not_negative'), 'procedure_case',
            'collection_cents >= 0',
        )
        op.create_check_constraint(
            op.f('ck_procedure_case_equipment_not_negative'), 'procedure_case',
            'equipment_cents >= 0',
        )


def _fill(bind):
    """Every facility and case so far: Medicare national, which is what they were priced at."""
    now = sa.func.now() if bind.dialect.name == 'postgresql' else sa.text('CURRENT_TIMESTAMP')
    payer = sa.table(
        'payer', sa.column('id'), sa.column('name'), sa.column('basis'),
        sa.column('medicare_rules'), sa.column('active'), sa.column('revision'),
        sa.column('note'), sa.column('created_at'), sa.column('updated_at'),
    )
    bind.execute(payer.insert().values(
        name=MEDICARE, basis='medicare_national', medicare_rules=True, active=True, revision=1,
        note='The benchmark: Medicare national rates, as every case was priced before payers.',
        created_at=now, updated_at=now,
    ))
    medicare = bind.execute(sa.select(payer.c.id).where(payer.c.name == MEDICARE)).scalar_one()
    op.execute(sa.text('UPDATE facility SET default_payer_id = :p').bindparams(p=medicare))
    op.execute(
        sa.text(
            'UPDATE procedure_case SET payer_id = :p, payer_revision = 1, billed = :t, '
            'collection_cents = reimbursement_cents, collection_complete = device_priced, '
            'collection = pricing, equipment_cents = 0'
        ).bindparams(p=medicare, t=True)
    )


def _require(sqlite):
    """NOT NULL on the columns that every row now fills."""
    required = [(t, n, s) for t, n, _, s, needed, _ in COLUMNS if needed]
    if not sqlite:
        for table, name, _ in required:
            op.alter_column(table, name, nullable=False)
        return
    bind = op.get_bind()
    for table in ('facility', 'procedure_case'):
        names = [(n, s) for t, n, s in required if t == table]

        def edit(sql, names=names, table=table):
            for name, sql_type in names:
                column = re.compile(rf'(?<=[(,\s]){name} {re.escape(sql_type)}(?! NOT NULL)')
                if len(column.findall(sql)) != 1:
                    raise RuntimeError(f'{table}.{name} is not where it was added')
                sql = column.sub(f'{name} {sql_type} NOT NULL', sql)
            return sql

        supply_app.db.edit_sqlite_table_sql(bind, table, edit)


def _set_codes(sqlite, old, new):
    if not sqlite:
        op.drop_constraint(op.f('ck_case_procedure_code'), 'case_procedure', type_='check')
        op.create_check_constraint(op.f('ck_case_procedure_code'), 'case_procedure', new)
        return

    def edit(sql):
        before = f'CONSTRAINT ck_case_procedure_code CHECK ({old})'
        if sql.count(before) != 1:
            raise RuntimeError('case_procedure has no single ck_case_procedure_code to replace')
        return sql.replace(before, f'CONSTRAINT ck_case_procedure_code CHECK ({new})')

    supply_app.db.edit_sqlite_table_sql(op.get_bind(), 'case_procedure', edit)


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    _create_tables()
    _add_columns(sqlite)
    _fill(bind)
    _require(sqlite)
    with op.batch_alter_table('procedure_case', schema=None) as batch_op:
        batch_op.create_index('ix_procedure_case_payer_id', ['payer_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_procedure_case_handpiece_serial'), ['handpiece_serial'], unique=False
        )
    _set_codes(sqlite, OLD_CODES, NEW_CODES)


def downgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    used = bind.exec_driver_sql(
        "SELECT count(*) FROM case_procedure WHERE code = '0441T'"
    ).scalar()
    if used:
        raise RuntimeError(
            f'{used} case lines bill 0441T, which the earlier schema cannot hold; void or '
            'reprice them before downgrading.'
        )
    _set_codes(sqlite, NEW_CODES, OLD_CODES)
    with op.batch_alter_table('procedure_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_procedure_case_handpiece_serial'))
        batch_op.drop_index('ix_procedure_case_payer_id')
    if not sqlite:
        for table, name in (('procedure_case', 'payer_id'), ('facility', 'default_payer_id')):
            op.drop_constraint(op.f(f'fk_{table}_{name}_payer'), table, type_='foreignkey')
        op.drop_constraint(op.f('ck_procedure_case_equipment_not_negative'), 'procedure_case', type_='check')
        op.drop_constraint(op.f('ck_procedure_case_collection_not_negative'), 'procedure_case', type_='check')
        op.drop_constraint(op.f('ck_facility_wage_index'), 'facility', type_='check')
    for table, name, *_ in reversed(COLUMNS):
        op.drop_column(table, name)
    op.drop_column('facility', 'bills_0441t')
    op.drop_table('equipment_cost')
    with op.batch_alter_table('payer_fee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payer_fee_payer_id'))
    op.drop_table('payer_fee')
    op.drop_table('payer')
