"""SMTP settings against a real server: STARTTLS and TLS with a login, and `notify test`."""

from __future__ import annotations

import pytest

from tests.notifications.conftest import run_cli
from tests.support.smtp import make_certificate, smtp_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("mode", ["starttls", "implicit_tls"])
def test_tls_and_login(app_with, certificate, mode):
    """The server's certificate is checked against MAIL_CA_FILE and the login is used."""
    with smtp_server(**{mode: certificate}) as (inbox, settings):
        result = run_cli(app_with(**settings), "notify", "test", "ops@example.mil")
        assert result.exit_code == 0, result.output
        (message,) = inbox.to("ops@example.mil")
        assert message["Subject"] == "supply_app: SMTP test"


@pytest.mark.parametrize("mode", ["starttls", "implicit_tls"])
def test_an_untrusted_certificate_is_refused(app_with, certificate, mode):
    """Without the CA the certificate cannot be verified, so nothing is sent."""
    with smtp_server(**{mode: certificate}) as (inbox, settings):
        settings.pop("MAIL_CA_FILE")
        result = run_cli(app_with(**settings), "notify", "test", "ops@example.mil")
        assert result.exit_code == 1
        assert "CERTIFICATE_VERIFY_FAILED" in result.output
        assert inbox.received == []


def test_a_wrong_password_is_reported(app_with, certificate):
    """The failure reaches the operator and nothing is delivered (aiosmtpd answers a bad
    login by dropping the session after smtplib's second mechanism, so the error varies)."""
    with smtp_server(starttls=certificate) as (inbox, settings):
        settings.update(MAIL_PASSWORD="wrong", MAIL_TIMEOUT=2)
        result = run_cli(app_with(**settings), "notify", "test", "ops@example.mil")
        assert result.exit_code == 1
        assert "the SMTP server refused or could not be reached" in result.output
        assert inbox.received == []


def test_notify_test_without_settings_and_with_a_bad_address(app_with):
    """No server: said clearly. A bad address: the rule refuses it before anything is tried."""
    result = run_cli(app_with(), "notify", "test", "ops@example.mil")
    assert result.exit_code == 1
    assert "SMTP is not configured" in result.output
    result = run_cli(app_with(), "notify", "test", "ops@example.mil\nBcc: x@evil.example")
    assert result.exit_code == 2
    assert "Email address is an address" in result.output
