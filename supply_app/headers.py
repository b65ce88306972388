"""Security headers on every response: content policy, framing, sniffing, referrer, caching, HSTS.

Pages (HTML) may load scripts, styles, images and data only from this origin, and nothing
inline: every script and style is a static file, so an injected `<script>` or `style=`
does nothing. Every other response (JSON, CSV, files) may load nothing at all. No response
may be framed by another site. Outside development, browsers are told to use HTTPS only.
"""

from __future__ import annotations

from flask import Flask, Response

from supply_app.config import https_only

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # the blank favicon and Swagger UI's icons are data: URLs
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
RESOURCE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    # same-origin, not no-referrer: Flask-WTF checks the Referer of form posts over HTTPS.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def install_security_headers(app: Flask) -> None:
    """Add the security headers to every response the app sends."""
    hsts = https_only(app.config)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        html = response.mimetype == "text/html"
        response.headers["Content-Security-Policy"] = PAGE_POLICY if html else RESOURCE_POLICY
        for name, value in ALWAYS.items():
            response.headers[name] = value
        if hsts:
            response.headers["Strict-Transport-Security"] = HSTS
        # Pages and API answers carry one user's data: no copy in any cache (nor shown by
        # Back after sign-out). Static files set their own caching and keep it.
        response.headers.setdefault("Cache-Control", "no-store")
        return response
