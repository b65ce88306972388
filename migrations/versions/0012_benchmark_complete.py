"""benchmark complete: whether a case's Medicare benchmark priced every component, stored
beside device_priced (a contractor-priced 0441T leaves the benchmark incomplete with the
device priced)

Revision ID: 0012_benchmark_complete
Revises: 0011_payers
Create Date: 2026-11-29 10:00:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa

import supply_app.db


# revision identifiers, used by Alembic.
revision = '0012_benchmark_complete'
down_revision = '0011_payers'
branch_labels = None
depends_on = None

COLUMN = 'reimbursement_complete'


def upgrade():
    bind = op.get_bind()
    op.add_column('procedure_case', sa.Column(COLUMN, sa.Boolean(), nullable=True))
    # The stored explanation says whether the claim was complete; rows priced before it
    # carried that fall back to the device flag, which is what they were reported by.
    if bind.dialect.name == 'postgresql':
        complete = "(pricing ->> 'complete')::boolean"
    else:
        complete = "json_extract(pricing, '$.complete')"
    op.execute(f'UPDATE procedure_case SET {COLUMN} = COALESCE({complete}, device_priced)')
    if bind.dialect.name != 'sqlite':
        op.alter_column('procedure_case', COLUMN, nullable=False)
        return

    def edit(sql):
        column = re.compile(rf'(?<=[(,\s]){COLUMN} BOOLEAN(?! NOT NULL)')
        if len(column.findall(sql)) != 1:
            raise RuntimeError(f'procedure_case.{COLUMN} is not where it was added')
        return column.sub(f'{COLUMN} BOOLEAN NOT NULL', sql)

    supply_app.db.edit_sqlite_table_sql(bind, 'procedure_case', edit)


def downgrade():
    op.drop_column('procedure_case', COLUMN)
