"""Sending what is owed: recall notices and today's digests, each claimed before it goes.

This is the one place that commits between messages, through the `commit` it is given: a
claim must be durable before its message leaves, and a send must be recorded as soon as it
is done, so a run that is repeated or stopped halfway never sends anything twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import after_this_request, current_app, flash, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.service import facility_ids_for
from supply_app.inventory import service as inventory
from supply_app.inventory.models import Recall, RecallLot
from supply_app.notifications import mail, service
from supply_app.notifications.digest import build_digest
from supply_app.notifications.models import Notice

log = logging.getLogger(__name__)


@dataclass
class Report:
    """What a run did, for the command's summary; `say` hears each line as it happens."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    stopped: str | None = None
    say: Callable[[str], None] = lambda _line: None

    def add(self, outcome: str, line: str) -> None:
        """Note a message's outcome ("sent", "skipped" or "failed") and say it at once."""
        getattr(self, outcome).append(line)
        self.say(f"{outcome}: {line}")


class ServerDown(Exception):
    """The SMTP server could not be reached or dropped us: stop, the rest would fail too."""


def _send(connection, email) -> str | None:
    """Send one message; the reason it was refused, or None when the server took it.

    :raises ServerDown: the server is unreachable or went away.
    """
    try:
        connection.send_messages([email])
    except mail.MESSAGE_ERRORS as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    except mail.SERVER_ERRORS as exc:
        raise ServerDown(f"{type(exc).__name__}: {exc}") from exc
    return None


def recall_message(session: Session, notice: Notice):
    """The recall notice for its user: the recall, its lots and their holders that are theirs."""
    recall = inventory.get_recall(session, notice.recall_id)
    holders = inventory.holders(session, recall, facility_ids_for(session, notice.user))
    return mail.message(notice.email, "recall", recall=recall, holders=holders, user=notice.user)


def _deliver(
    session: Session, commit: Callable[[], None], connection, notice: Notice, email, report
) -> None:
    """Send a claimed notice and record the outcome (committed)."""
    try:
        error = _send(connection, email)
    except ServerDown as exc:
        service.mark(session, notice, str(exc))
        commit()
        raise
    service.mark(session, notice, error)
    commit()
    who = f"{notice.kind} to {notice.user.username} <{notice.email}>"
    report.add("failed" if error else "sent", f"{who}: {error}" if error else who)


def send_recall_notices(
    session: Session,
    commit: Callable[[], None],
    connection,
    notices: list[Notice],
    report: Report,
    *,
    resend_unconfirmed: bool = False,
    until: float | None = None,
) -> None:
    """Claim and send each recall notice; ones without an address fail, saying so. With
    `until` (a time.monotonic() deadline) the rest stay owed once it has passed."""
    for notice in notices:
        if until is not None and time.monotonic() > until:
            return
        if not service.claim(session, notice.id, resend_unconfirmed=resend_unconfirmed):
            continue
        commit()
        session.refresh(notice)
        # Where the user reads mail now: an address set (or changed) since the recall counts.
        notice.email = service.current_address(session, notice.user)
        if not notice.email:
            service.mark(session, notice, "no email address on file")
            commit()
            report.add(
                "failed",
                f"recall to {notice.user.username}: no email address on file; set one on "
                "the Notifications page or with `supply-app notify set`",
            )
            continue
        _deliver(session, commit, connection, notice, recall_message(session, notice), report)


def send_digests(
    session: Session,
    commit: Callable[[], None],
    connection,
    report: Report,
    *,
    progress: Callable[[User], None] = lambda _user: None,
    resend_unconfirmed: bool = False,
) -> None:
    """Today's digest (each user's first facility's today) to everyone who asked for it."""
    for user, address in service.digest_subscribers(session):
        progress(user)
        digest = build_digest(session, user)
        if digest is None or digest.count == 0:
            report.add("skipped", f"{user.username}: nothing to report")
            continue
        notice, claimed = service.claim_digest(
            session, user, address, digest.day, digest.count, resend_unconfirmed=resend_unconfirmed
        )
        if not claimed:  # sent already, or another run holds it (listed as unconfirmed)
            if notice.status == "sent":
                report.add("skipped", f"{user.username}: digest for {digest.day} already sent")
            continue
        commit()
        email = mail.message(address, "digest", digest=digest, user=user)
        _deliver(session, commit, connection, notice, email, report)


def run(
    session: Session,
    commit: Callable[[], None],
    *,
    progress: Callable[[User], None] = lambda _user: None,
    say: Callable[[str], None] = lambda _line: None,
    resend_unconfirmed: bool = False,
) -> Report:
    """Send every outstanding recall notice, then today's digests.

    :raises MailNotConfigured: no SMTP server or sender is set (nothing is claimed).
    """
    mail.require_smtp()
    report = Report(say=say)
    try:
        with mail.connection() as connection:
            send_recall_notices(
                session,
                commit,
                connection,
                service.outstanding_recall_notices(session),
                report,
                resend_unconfirmed=resend_unconfirmed,
            )
            send_digests(
                session,
                commit,
                connection,
                report,
                progress=progress,
                resend_unconfirmed=resend_unconfirmed,
            )
    except ServerDown as exc:
        report.stopped = f"the SMTP server failed: {exc}"
    except mail.SERVER_ERRORS as exc:  # opening or closing the connection
        report.stopped = f"the SMTP server failed: {type(exc).__name__}: {exc}"
    report.unconfirmed = [
        f"{n.kind} to {n.user.username} ({n.day or 'recall ' + str(n.recall_id)}), claimed "
        f"{n.claimed_at:%Y-%m-%d %H:%M} UTC by a run that has not confirmed it (still "
        "sending, or stopped before it knew): it may have gone"
        for n in service.unconfirmed(session)
    ]
    return report


def deliver_now(session: Session, commit: Callable[[], None], notice_ids: list[int]) -> str:
    """Send just-queued recall notices at once (after the recall committed).

    Never raises: what cannot go now stays owed for `supply-app notify send`, and the
    answer (shown to the person who placed the recall) says so in their words; the
    operator's detail goes to the log.
    """
    if not notice_ids:
        return "No one holds these lots, so no notice was needed."
    problem = mail.smtp_problem(current_app.config)
    if problem:
        log.warning("recall notices not sent: %s", problem)
        return (
            f"{len(notice_ids)} people who hold these lots could not be emailed now: email is "
            "not set up on this server. Tell them yourself; the notices go out with the next "
            "scheduled mail run once it is."
        )
    notices = list(session.scalars(select(Notice).where(Notice.id.in_(notice_ids))))
    report = Report()
    # Someone is waiting on this request: a slow or silent server may hold it for seconds,
    # never minutes; what is left stays owed for `notify send`.
    budget = current_app.config["RECALL_NOTICE_SECONDS"]
    try:
        with mail.connection(timeout=max(budget, 1)) as connection:
            send_recall_notices(
                session, commit, connection, notices, report, until=time.monotonic() + budget
            )
    except (ServerDown, *mail.SERVER_ERRORS) as exc:
        log.warning("recall notices not sent: %s", exc)
        report.stopped = str(exc)
    owed = len(notice_ids) - len(report.sent)
    if not owed:
        return f"{len(report.sent)} notices sent."
    return (
        f"{len(report.sent)} notices sent; {owed} could not be sent now (the mail server "
        "refused them, or the person has no email address). The next scheduled mail run "
        "tries again; the recall page shows who is still owed one."
    )


def announce(session: Session, recall: Recall, lots: list[RecallLot]) -> int:
    """Queue the holders' notices in this transaction and send them once it has committed.

    Every door that places a recall or adds lots calls this. The sending happens after the
    response is built (so after the request's one commit), and only for a success: a
    refused request rolled its notices back with everything else.
    """
    ids = [notice.id for notice in service.queue_recall_notices(session, recall, lots)]

    @after_this_request
    def _send(response):
        if response.status_code < 400:
            outcome = deliver_now(session, session.commit, ids)
            if not request.path.startswith("/api/"):
                flash(f"Recall notices: {outcome}", "info")
        return response

    return len(ids)
