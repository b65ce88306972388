"""Idempotency-Key support: a retried POST is applied once and replays its first response."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app, g, make_response, request
from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from supply_app.clock import utcnow
from supply_app.db import UTCDateTime, begin_write
from supply_app.errors import Conflict, InvalidInput
from supply_app.extensions import db
from supply_app.rules import Identifier

KEY_HEADER = "Idempotency-Key"
JSON_TYPE = "application/json"  # write views answer JSON, or nothing at all
KEY = Identifier(
    KEY_HEADER,
    r"[!-~]{1,255}",
    255,
    hint="1 to 255 printable ASCII characters without spaces (a UUID, say)",
)


class IdempotencyRecord(db.Model):
    """The first successful response to a (user, key) pair."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    key: Mapped[str] = mapped_column(String(KEY.max_length))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def request_fingerprint() -> str:
    """HMAC-SHA-256, keyed with the app's secret, of method, path, query and the JSON body.

    Keyed because bodies can carry secrets (a new user's password): without the key, the
    stored fingerprint cannot be used to test guesses at them.
    """
    body = request.get_json(silent=True)
    canonical = json.dumps(
        [request.method, request.path, request.query_string.decode(), body],
        sort_keys=True,
        separators=(",", ":"),
    )
    secret = current_app.secret_key
    key = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _commit() -> None:
    """Commit the request's work; a constraint a concurrent writer won is a 409, not a 500."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("The write conflicted with a concurrent change; retry it.") from exc


def _record_for(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord, fingerprint: str):
    if record.request_hash != fingerprint:
        raise InvalidInput(
            f"Idempotency-Key {record.key!r} was already used with a different request; "
            "use a new key for a new request.",
            field=KEY_HEADER,
        )
    if record.response_body is None:  # an empty answer (204), as the view's was: no body
        response = make_response("", record.response_status, {"Content-Type": JSON_TYPE})
    else:
        response = make_response(record.response_body, record.response_status)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _redacted(body: Any, names: tuple[str, ...]) -> Any:
    if not names or not isinstance(body, dict):
        return body
    return {
        k: ("redacted: shown only in the first response" if k in names else v)
        for k, v in body.items()
    }


def write_endpoint(view: Callable[..., Any] | None = None, *, redact: tuple[str, ...] = ()) -> Any:
    """Run a write view as one transaction, honouring Idempotency-Key, then commit once.

    The key record is claimed first and committed in the same transaction as the change,
    so a retry after a crash either finds the committed change with its response, or finds
    nothing and runs; a concurrent duplicate waits for the first and replays it.
    Members named in `redact` (secrets shown once) are not stored for replay.
    """
    if view is None:
        return functools.partial(write_endpoint, redact=redact)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        begin_write(db.session)
        key = request.headers.get(KEY_HEADER)
        if key is None:
            response = make_response(view(*args, **kwargs))
            _commit()
            return response
        key = KEY.check(key, KEY_HEADER)
        user_id = g.api_user_id
        fingerprint = request_fingerprint()
        existing = _record_for(user_id, key)
        if existing is not None:
            return _replay(existing, fingerprint)
        # Claim the key before doing the work: a concurrent request with the same key
        # waits on the unique index here (PostgreSQL) until this one ends, then replays
        # it, instead of racing it into the business rules (a duplicate case reference,
        # say) and answering something other than the first response.
        record = IdempotencyRecord(
            user_id=user_id,
            key=key,
            method=request.method,
            path=request.path,
            request_hash=fingerprint,
            response_status=0,
        )
        db.session.add(record)
        try:
            db.session.flush()
        except IntegrityError as exc:
            db.session.rollback()
            winner = _record_for(user_id, key)
            if winner is None:
                raise Conflict("The same request is still in progress; retry it.") from exc
            return _replay(winner, fingerprint)
        response = make_response(view(*args, **kwargs))
        record.response_status = response.status_code
        record.response_body = _redacted(response.get_json(silent=True), redact)
        _commit()
        return response

    return wrapper
