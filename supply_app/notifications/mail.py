"""Mail over SMTP (Flask-Mailman): settings, a verified STARTTLS, and the messages we send.

Settings (each also SUPPLY_<NAME> in the environment): MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS
(STARTTLS), MAIL_USE_SSL (TLS from the first byte), MAIL_USERNAME, MAIL_PASSWORD,
MAIL_DEFAULT_SENDER, MAIL_TIMEOUT (seconds), MAIL_CA_FILE (a CA bundle to trust, such as
the DoD roots, beside the system's), and PUBLIC_URL for links in messages. With no server
or sender set, nothing is sent and the sender says so: mail is never dropped silently.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any

from flask import current_app, render_template
from flask_mailman import EmailMultiAlternatives, Mail
from flask_mailman.backends.smtp import EmailBackend

from supply_app.errors import DomainError

mail = Mail()

#: The server refused this one message (its recipient, sender or content): record it and
#: go on with the rest.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
#: Anything else from the network or SMTP (smtplib's errors are OSErrors): the server cannot
#: be reached or talked to, so stop the run; the rest would fail the same way.
SERVER_ERRORS = (OSError,)


class MailNotConfigured(DomainError):
    """SMTP settings are missing, so no mail can be sent."""

    status = 503
    slug = "mail-not-configured"
    title = "Mail is not configured"


def init_mail(app: Any) -> None:
    """Bind Flask-Mailman to the app with our backend (real SMTP, even under TESTING)."""
    app.config.setdefault("MAIL_BACKEND", f"{__name__}.VerifiedEmailBackend")
    mail.init_app(app)


def smtp_problem(config: Any) -> str | None:
    """What is missing from the SMTP settings, or None when mail can be sent."""
    missing = [name for name in ("MAIL_SERVER", "MAIL_DEFAULT_SENDER") if not config.get(name)]
    if not missing:
        return None
    names = " and ".join(f"SUPPLY_{name}" for name in missing)
    return (
        f"SMTP is not configured: set {names} (and SUPPLY_MAIL_PORT, SUPPLY_MAIL_USE_TLS or "
        "SUPPLY_MAIL_USE_SSL, SUPPLY_MAIL_USERNAME and SUPPLY_MAIL_PASSWORD as your server "
        "needs). Nothing was sent."
    )


def require_smtp() -> None:
    """:raises MailNotConfigured: naming the missing settings."""
    problem = smtp_problem(current_app.config)
    if problem:
        raise MailNotConfigured(problem)


class _VerifiedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose STARTTLS checks the server's certificate and name.

    smtplib's own default context for STARTTLS verifies nothing, which would let anyone on
    the path read the credentials and the mail.
    """

    def starttls(self, *args: Any, context: ssl.SSLContext | None = None, **kwargs: Any):
        """STARTTLS with a verifying context unless one is given."""
        return super().starttls(*args, context=context or verifying_context(), **kwargs)


def verifying_context() -> ssl.SSLContext:
    """The system's trust store, plus MAIL_CA_FILE when set."""
    context = ssl.create_default_context()
    ca_file = current_app.config.get("MAIL_CA_FILE")
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


class VerifiedEmailBackend(EmailBackend):
    """Flask-Mailman's SMTP backend with certificate checks on STARTTLS and implicit TLS."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        """SMTP_SSL for implicit TLS, else SMTP whose STARTTLS verifies."""
        return smtplib.SMTP_SSL if self.use_ssl else _VerifiedSMTP

    @property
    def ssl_context(self) -> ssl.SSLContext:  # type: ignore[override]
        """The verifying context for implicit TLS."""
        return verifying_context()


def connection(timeout: float | None = None) -> EmailBackend:
    """An SMTP connection for a run of messages (open it with `with`); `timeout` (seconds per
    SMTP step) replaces MAIL_TIMEOUT, for senders a person is waiting on."""
    return mail.get_connection(**({"timeout": timeout} if timeout is not None else {}))


def message(to: str, template: str, **context: Any) -> EmailMultiAlternatives:
    """A plain-text message with an HTML alternative, from email/<template>.{txt,html}."""
    context.setdefault("base_url", (current_app.config.get("PUBLIC_URL") or "").rstrip("/"))
    subject = render_template(f"email/{template}.subject.txt", **context).strip()
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    email = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    email.attach_alternative(html, "text/html")
    return email
