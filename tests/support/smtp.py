"""A real SMTP server for the mail tests (aiosmtpd on a free loopback port).

It receives what the app sends over a socket, keeps each message as parsed email, and can
speak STARTTLS or TLS from the first byte with a certificate made for the test, and demand
a login.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "mailer", "s3cret-pass"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the server accepted: envelope recipients and the parsed message, in order."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse the addresses a test asks to, as a real server refuses unknown mailboxes."""
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Keep the message, parsed."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages delivered to an address."""
        return [message for rcpts, message in self.received if address in rcpts]


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key) made with openssl."""
    cert, key = folder / "smtp.crt", folder / "smtp.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def smtp_server(
    *, starttls: tuple[Path, Path] | None = None, implicit_tls: tuple[Path, Path] | None = None
) -> Iterator[tuple[Inbox, dict[str, Any]]]:
    """Run a server; yields its inbox and the app settings that reach it."""
    inbox = Inbox()
    port = free_port()
    settings: dict[str, Any] = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_DEFAULT_SENDER": "supply-app@example.mil",
        "MAIL_TIMEOUT": 10,
    }
    kwargs: dict[str, Any] = {}
    if starttls or implicit_tls:
        cert, key = starttls or implicit_tls  # type: ignore[misc]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        settings.update(MAIL_CA_FILE=str(cert), MAIL_USERNAME=USER, MAIL_PASSWORD=PASSWORD)
        kwargs = {"authenticator": _authenticate, "auth_require_tls": True}
        if starttls:
            kwargs.update(tls_context=context, require_starttls=True)
            settings["MAIL_USE_TLS"] = True
        else:
            # aiosmtpd does not count TLS from the first byte as TLS for AUTH; it is.
            kwargs.update(ssl_context=context, auth_require_tls=False)
            settings["MAIL_USE_SSL"] = True
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, settings
    finally:
        controller.stop()
