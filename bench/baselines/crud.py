"""The CRUD baseline: the booking service a team would write without event sourcing.

FastAPI + SQLAlchemy on PostgreSQL, the conventional way: a sync handler (run
in FastAPI's thread pool), the HS256 bearer token verified with PyJWT (the
library SlotWise uses) on every request, and for `POST /v1/bookings` one
transaction that locks the business row (`SELECT ... FOR UPDATE`), checks the
overlap against the service's held bookings, inserts and commits. An
`Idempotency-Key` is honoured the usual way: looked up first, stored with the
answer in the same transaction.

    CRUD_DATABASE_URL=postgresql://...?schema=NAME CRUD_JWT_SECRET=... \
        python -m uvicorn crud:create_app --factory --app-dir bench/baselines

Settings (environment): CRUD_DATABASE_URL (a `schema` query parameter becomes
the search_path), CRUD_JWT_SECRET, CRUD_POOL_SIZE (default 2) and
CRUD_MAX_OVERFLOW (default 4): the write API's event-store pool by default.
Tables are created at start-up; `bench/write.py` inserts the business and the
service with SQL.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import Engine, create_engine, text

DDL = """
CREATE TABLE IF NOT EXISTS crud_businesses (
    id uuid PRIMARY KEY, owner_id text NOT NULL, timezone text NOT NULL,
    capacity integer NOT NULL);
CREATE TABLE IF NOT EXISTS crud_services (
    id uuid PRIMARY KEY, business_id uuid NOT NULL REFERENCES crud_businesses(id),
    name text NOT NULL, duration_minutes integer NOT NULL, seats integer NOT NULL,
    price_amount numeric(12, 2) NOT NULL, currency char(3) NOT NULL, active boolean NOT NULL);
CREATE TABLE IF NOT EXISTS crud_bookings (
    id uuid PRIMARY KEY, business_id uuid NOT NULL, service_id uuid NOT NULL,
    customer_id text NOT NULL, placed_by text NOT NULL, "start" timestamptz NOT NULL,
    "end" timestamptz NOT NULL, status text NOT NULL, notes text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS ix_crud_bookings_service_start ON crud_bookings (service_id, "start");
CREATE TABLE IF NOT EXISTS crud_idempotency (
    key text NOT NULL, actor_id text NOT NULL, status integer NOT NULL, body text NOT NULL,
    PRIMARY KEY (actor_id, key));
"""

LOCK_BUSINESS = text(
    "SELECT b.id, b.capacity, s.duration_minutes, s.seats, s.active FROM crud_services s "
    "JOIN crud_businesses b ON b.id = s.business_id WHERE s.id = :service_id "
    "FOR UPDATE OF b"
)
OVERLAPS = text(
    'SELECT count(*) FROM crud_bookings WHERE service_id = :service_id AND "start" < :end '
    "AND \"end\" > :start AND status IN ('pending', 'confirmed')"
)
INSERT = text(
    'INSERT INTO crud_bookings (id, business_id, service_id, customer_id, placed_by, "start", '
    '"end", status, notes) VALUES (:id, :business_id, :service_id, :customer_id, :placed_by, '
    ":start, :end, :status, :notes)"
)
FIND_KEY = text("SELECT status, body FROM crud_idempotency WHERE actor_id = :actor AND key = :key")
SAVE_KEY = text(
    "INSERT INTO crud_idempotency (key, actor_id, status, body) "
    "VALUES (:key, :actor, :status, :body)"
)


class PlaceBooking(BaseModel):
    service_id: uuid.UUID
    start: AwareDatetime
    notes: str = Field(default="", max_length=2000)
    customer_id: str | None = Field(default=None, max_length=200)


def engine_from(url: str) -> Engine:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", None)
    plain = urlunsplit(parts._replace(scheme="postgresql+psycopg", query=urlencode(query)))
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(
        plain,
        pool_size=int(os.environ.get("CRUD_POOL_SIZE", "2")),
        max_overflow=int(os.environ.get("CRUD_MAX_OVERFLOW", "4")),
        connect_args=connect_args,
    )


def create_app() -> FastAPI:
    engine = engine_from(os.environ["CRUD_DATABASE_URL"])
    secret = os.environ["CRUD_JWT_SECRET"]
    with engine.begin() as conn:
        for statement in DDL.split(";"):
            if statement.strip():
                conn.execute(text(statement))
    app = FastAPI(title="CRUD booking baseline")

    def actor(authorization: str | None) -> dict[str, Any]:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401, "a bearer token is required")
        try:
            claims: dict[str, Any] = jwt.decode(
                authorization.removeprefix("Bearer "),
                secret,
                algorithms=["HS256"],
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.InvalidTokenError:
            raise HTTPException(401, "invalid token") from None
        if claims["role"] not in ("customer", "owner", "admin"):
            raise HTTPException(403, "this role cannot book")
        return claims

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/bookings", status_code=201)
    def place_booking(
        body: PlaceBooking,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        claims = actor(authorization)
        customer = claims["sub"]
        if body.customer_id is not None and body.customer_id != customer:
            if claims["role"] == "customer":
                raise HTTPException(403, "customers book for themselves")
            customer = body.customer_id
        with engine.begin() as conn:
            if idempotency_key is not None:
                found = conn.execute(FIND_KEY, {"actor": claims["sub"], "key": idempotency_key})
                if (row := found.first()) is not None:
                    return JSONResponse(json.loads(row.body), status_code=row.status)
            locked = conn.execute(LOCK_BUSINESS, {"service_id": body.service_id}).first()
            if locked is None or not locked.active:
                raise HTTPException(404, "no such service")
            end: datetime = body.start + timedelta(minutes=locked.duration_minutes)
            window = {"service_id": body.service_id, "start": body.start, "end": end}
            if conn.execute(OVERLAPS, window).scalar_one() >= locked.seats:
                raise HTTPException(409, "that slot is taken")
            booking_id = uuid.uuid4()
            conn.execute(
                INSERT,
                {
                    **window,
                    "id": booking_id,
                    "business_id": locked.id,
                    "customer_id": customer,
                    "placed_by": claims["sub"],
                    "status": "confirmed",
                    "notes": body.notes,
                },
            )
            answer = {
                "id": str(booking_id),
                "service_id": str(body.service_id),
                "customer_id": customer,
                "status": "confirmed",
                "start": body.start.isoformat(),
                "end": end.isoformat(),
            }
            if idempotency_key is not None:
                params = {"actor": claims["sub"], "key": idempotency_key}
                conn.execute(SAVE_KEY, {**params, "status": 201, "body": json.dumps(answer)})
        return JSONResponse(
            answer, status_code=201, headers={"Location": f"/v1/bookings/{booking_id}"}
        )

    return app
