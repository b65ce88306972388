"""`supply-app notify ...`: send what is owed, preview a digest, set an address, test SMTP."""

from __future__ import annotations

import sys

import click

from supply_app.auth.rules import USERNAME
from supply_app.cli import RuleParam, fail, unit_of_work
from supply_app.notifications.rules import EMAIL

notify_cli = click.Group("notify", help="Daily digests and recall notices by email.")


@notify_cli.command("send")
@click.option(
    "--resend-unconfirmed",
    is_flag=True,
    help="Also send messages claimed over 15 minutes ago and never confirmed (a stopped "
    "run's; they may arrive twice).",
)
@unit_of_work()
def send(resend_unconfirmed: bool) -> list[str]:
    """Send outstanding recall notices, then today's digest to everyone who asked for it.

    Each message is claimed (committed) before it goes and recorded after, so running this
    twice, or again after a crash, sends nothing twice. One line per message as it goes.
    Exits 1 when SMTP is not set up, when a message failed, when the server could not be
    reached, or when a claim is left unconfirmed (a run still sending, or one that stopped).
    """
    from supply_app.extensions import db
    from supply_app.notifications import delivery

    with click.progressbar(
        length=_subscriber_count(),
        label="Digests",
        item_show_func=lambda name: name or "",
        file=sys.stderr,
    ) as bar:

        def progress(user) -> None:
            bar.update(1, user.username)

        report = delivery.run(
            db.session,
            db.session.commit,
            progress=progress,
            say=lambda line: click.echo(line, err=line.startswith("failed")),
            resend_unconfirmed=resend_unconfirmed,
        )
    for line in report.unconfirmed:
        click.echo(f"unconfirmed: {line}", err=True)
    summary = (
        f"{len(report.sent)} sent, {len(report.skipped)} skipped, {len(report.failed)} failed, "
        f"{len(report.unconfirmed)} unconfirmed"
    )
    if report.stopped or report.failed:
        click.echo(summary)
        fail(
            report.stopped
            or f"{len(report.failed)} messages were not sent; the next run retries them"
        )
    if report.unconfirmed:
        click.echo(summary)
        fail(
            f"{len(report.unconfirmed)} messages are claimed but not confirmed sent; they are "
            "not resent, as they may have gone. Once a claim is 15 minutes old, "
            "`supply-app notify send --resend-unconfirmed` sends it again."
        )
    return [summary]


def _subscriber_count() -> int:
    from supply_app.extensions import db
    from supply_app.notifications.service import digest_subscribers

    return len(digest_subscribers(db.session))


@notify_cli.command("preview")
@click.argument("username", type=RuleParam(USERNAME))
@unit_of_work(writes=False)
def preview(username: str) -> str:
    """Print a user's digest for today as the plain-text email would say it (sends nothing)."""
    from flask import render_template

    from supply_app.auth.service import find_user
    from supply_app.extensions import db
    from supply_app.notifications.digest import build_digest

    user = find_user(db.session, username)
    digest = build_digest(db.session, user)
    if digest is None:
        return f"{username} holds no active facility; there is no digest.\n"
    return render_template("email/digest.txt", digest=digest, user=user, base_url="")


@notify_cli.command("set")
@click.argument("username", type=RuleParam(USERNAME))
@click.option("--email", type=RuleParam(EMAIL), help="The address to send to.")
@click.option("--no-email", is_flag=True, help="Forget the address (and stop the digest).")
@click.option("--digest/--no-digest", default=None, help="Send the daily digest or not.")
@unit_of_work()
def set_address(username: str, email: str | None, no_email: bool, digest: bool | None) -> list[str]:
    """Set a user's email address and daily-digest choice."""
    from supply_app.auth.service import find_user
    from supply_app.extensions import db
    from supply_app.notifications.service import preference, set_preference

    if email is not None and no_email:
        raise click.UsageError("Give --email or --no-email, not both.")
    user = find_user(db.session, username)
    current = preference(db.session, user)
    address = None if no_email else email or current.email
    # Forgetting the address stops the digest; asking for it without one is refused below.
    wanted = (current.daily_digest and not no_email) if digest is None else digest
    saved = set_preference(db.session, user=user, email=address, daily_digest=wanted)
    return [
        f"{username}: {saved.email or 'no address'}, daily digest "
        f"{'on' if saved.daily_digest else 'off'}"
    ]


@notify_cli.command("test")
@click.argument("address", type=RuleParam(EMAIL))
@unit_of_work(writes=False)
def test_message(address: str) -> list[str]:
    """Send one test message to ADDRESS with the configured SMTP settings."""
    from flask_mailman import EmailMessage

    from supply_app.notifications import mail

    mail.require_smtp()
    try:
        with mail.connection() as connection:
            connection.send_messages(
                [
                    EmailMessage(
                        subject="supply_app: SMTP test",
                        body="This is a test message from supply-app notify test.\n",
                        to=[address],
                    )
                ]
            )
    except Exception as exc:  # report any SMTP or network failure to the operator
        fail(f"the SMTP server refused or could not be reached: {type(exc).__name__}: {exc}")
    return [f"sent a test message to {address}"]
