"""The `supply-app` command line: the Flask CLI bound to create_app, plus each domain's group.

Every domain command is written with `unit_of_work`: it runs in the app context, a
DomainError rolls everything back and exits 1 with its message, and what the command
changed is committed once at its end. Arguments people type are read by the domains'
rules (`RuleParam`), as the API and the UI read them.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from supply_app.errors import DomainError
from supply_app.rules import Rule, RuleBroken


def main() -> None:
    """Entry point of the `supply-app` console script."""
    from supply_app import create_app

    FlaskGroup(create_app=lambda: create_app(), help="supply_app administration.")(
        prog_name="supply-app"
    )


def fail(message: str) -> None:
    """Print a message to stderr and exit non-zero, rolling back the transaction."""
    from supply_app.extensions import db

    db.session.rollback()
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def unit_of_work(*, writes: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a command as one transaction in the app context.

    The command returns the lines to print (or None, or one text printed as it is); they
    are printed after the commit, so nothing claims success before it is durable. A
    DomainError rolls back and exits 1 with its message. Read-only commands
    (writes=False) roll back instead of committing.
    """

    def decorate(command: Callable[..., Iterable[str] | str | None]) -> Callable[..., None]:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> None:
            from supply_app.extensions import db

            try:
                output = command(*args, **kwargs)
            except DomainError as exc:
                fail(exc.detail)
                return
            if writes:
                db.session.commit()
            else:
                db.session.rollback()
            if isinstance(output, str):
                click.echo(output, nl=False)
                return
            for line in output or ():
                click.echo(line)

        return with_appcontext(run)

    return decorate


class RuleParam(click.ParamType):
    """A command-line argument read by a domain rule (parse for numbers, money and dates)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.name = rule.label

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        """The value as the rule stores it, or click's usage error with the rule's message."""
        if not isinstance(value, str):
            return value
        read = getattr(self.rule, "parse", self.rule.clean)
        try:
            return read(value)
        except RuleBroken as exc:
            self.fail(str(exc), param, ctx)


@click.command("demo")
@unit_of_work()
def demo() -> list[str]:
    """Load demo facilities, users, tokens and clearly labelled demo prices (idempotent)."""
    from supply_app.demo import load_demo
    from supply_app.extensions import db

    return load_demo(db.session)


def register_commands(app: Flask) -> None:
    """Attach every domain's command group to the app's CLI."""
    from supply_app.auth.cli import tokens_cli, users_cli
    from supply_app.cases.cli import cases_cli
    from supply_app.catalog.cli import catalog_cli, prices_cli
    from supply_app.inventory.cli import inventory_cli
    from supply_app.notifications.cli import notify_cli
    from supply_app.ordering.cli import orders_cli
    from supply_app.payers.cli import payers_cli

    for command in (
        catalog_cli,
        prices_cli,
        users_cli,
        tokens_cli,
        demo,
        inventory_cli,
        orders_cli,
        cases_cli,
        payers_cli,
        notify_cli,
    ):
        app.cli.add_command(command)
