"""Alembic environment bound to the Flask app's database (through Flask-Migrate)."""

from __future__ import annotations

from alembic import context
from flask import current_app

config = context.config
target_db = current_app.extensions["migrate"].db
target_metadata = target_db.metadata


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting."""
    context.configure(
        url=target_db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        **current_app.extensions["migrate"].configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a connection from the app's engine."""
    conf_args = dict(current_app.extensions["migrate"].configure_args)

    def skip_empty_autogenerate(context_, revision, directives):
        # An autogenerate with no changes should not write an empty revision file.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []

    conf_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
