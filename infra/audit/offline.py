"""Verifying an export file without the store: the chain, and each line against its bytes.

A line's `chainhash` must be SHA-256 of its `prevhash` and the canonical bytes
rebuilt from its position, subject, version, `recordtopic` and `recordstate`;
and its envelope must be the one the recorded bytes give, so an edited `data`
or actor is caught too. An export of a stretch of the log (`exportscope` `log`)
is also followed link by link: each line's `prevhash` is the previous line's
`chainhash`. A business's export skips other events, so its lines are verified
one by one and the verdict says so.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, Notification

from commands.app import register_all
from infra.audit.chain import GENESIS, link
from infra.audit.export import LOG_SCOPE
from infra.audit.verify import Verdict
from infra.envelopes import envelope_from_record
from infra.transcoder import OrjsonTranscoder

EXTENSIONS = ("prevhash", "chainhash", "recordtopic", "recordstate", "exportscope")


def offline_mapper() -> Mapper[UUID]:
    """The mapper the store is written with, without opening any store."""
    transcoder = OrjsonTranscoder()
    register_all(transcoder)
    return Mapper(transcoder=transcoder)


class LineFails(Exception):
    """One line of an export does not hold."""


def verify_export(lines: Iterable[bytes], mapper: Mapper[UUID] | None = None) -> Verdict:
    """Verify an export's lines in order; the first failure is named by position."""
    mapper = mapper or offline_mapper()
    previous, position, count, scope, first = GENESIS, 0, 0, None, None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = _parse(raw)
            at = line["position"]
            scope = scope or line["exportscope"]
            first = line["prevhash"] if first is None else first
            _check_order(line, scope, previous, position, count)
            _check_line(line, mapper)
        except LineFails as failure:
            at_line = line_position(raw)
            where = "" if at_line is not None else f"line {number}"
            return Verdict(count, previous, at_line or 0, str(failure), where=where)
        previous, position, count = bytes.fromhex(line["chainhash"]), at, count + 1
    return Verdict(count, previous, position, note=_note(scope, first, count))


def _note(scope: str | None, first: str | None, count: int) -> str:
    if scope is not None and scope != LOG_SCOPE:
        return f" one by one ({scope}: a filtered export; the links between them are not checked)"
    if count and first != GENESIS.hex():
        return f" (a stretch of the log: it follows chain hash {first})"
    return ""


def line_position(raw: bytes) -> int | None:
    try:
        return int(orjson.loads(raw)["position"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise LineFails("not a JSON object") from None
    missing = [k for k in ("position", "subject", "aggregateversion", *EXTENSIONS) if k not in line]
    if not isinstance(line, dict) or missing:
        raise LineFails(f"not an audit export line (missing {', '.join(missing)})")
    return line


def _check_order(
    line: dict[str, Any], scope: str, previous: bytes, position: int, count: int
) -> None:
    if line["exportscope"] != scope:
        raise LineFails(f"scope {line['exportscope']} where the export began with {scope}")
    if not isinstance(line["position"], int) or line["position"] <= position:
        raise LineFails("positions do not rise here: lines were moved or repeated")
    if scope == LOG_SCOPE and count and line["prevhash"] != previous.hex():
        raise LineFails("the chain breaks here: a line before it was removed, inserted or moved")


def _check_line(line: dict[str, Any], mapper: Mapper[UUID]) -> None:
    try:
        record = Notification(
            id=line["position"],
            originator_id=UUID(line["subject"]),
            originator_version=int(line["aggregateversion"]),
            topic=str(line["recordtopic"]),
            state=base64.b64decode(line["recordstate"], validate=True),
        )
        prevhash = bytes.fromhex(line["prevhash"])
        chainhash = bytes.fromhex(line["chainhash"])
    except (ValueError, TypeError, binascii.Error):
        raise LineFails("a field the chain covers is malformed") from None
    expected = link(
        prevhash,
        record.id,
        record.originator_id,  # type: ignore[arg-type]  # a UUID, parsed above
        record.originator_version,
        record.topic,
        record.state,
    )
    if expected != chainhash:
        raise LineFails("chainhash does not match the recorded bytes: the line was altered")
    try:
        envelope = envelope_from_record(record, mapper).as_dict()
    except Exception:  # any decoding failure means the bytes are not an event we wrote
        raise LineFails("the recorded bytes are not a SlotWise event") from None
    shown = {k: v for k, v in line.items() if k not in EXTENSIONS}
    if orjson.dumps(shown, option=orjson.OPT_SORT_KEYS) != orjson.dumps(
        envelope, option=orjson.OPT_SORT_KEYS
    ):
        raise LineFails("the event's fields differ from its recorded bytes: the line was altered")
