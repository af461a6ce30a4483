"""Commands on a customer's personal data: erase it (crypto-shredding)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select

from commands.messages import Done, ErasePersonalData
from infra.web.deps import ActorDep, ContainerDep
from infra.web.openapi import problems
from projections.tables import booking_personal_data
from write_api.answers import ErasureAnswer
from write_api.gateway import GatewayDep

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.delete(
    "/{customer_id}/personal-data",
    responses={200: {"model": ErasureAnswer}},
    openapi_extra=problems(401, 403),
)
def erase_personal_data(
    customer_id: str, actor: ActorDep, gateway: GatewayDep, container: ContainerDep
) -> Response:
    """Erase a customer's contact details and notes for good (admin, or the customer):
    their key is deleted, so every copy of the ciphertext stays unreadable."""

    def count(done: Done) -> tuple[Done, dict[str, Any]]:
        table = booking_personal_data
        query = select(func.count()).where(table.c.subject == customer_id)
        with container.read_db.reader.connect() as conn:
            return done, {"bookings": int(conn.execute(query).scalar_one())}

    return gateway.send(ErasePersonalData(actor, customer_id), then=count)
