"""Commands on a customer's personal data: erase it (crypto-shredding)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from commands.messages import Done, ErasePersonalData
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from write_api.answers import ErasureAnswer
from write_api.gateway import GatewayDep
from write_api.ports import PersonalDataDep

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.delete(
    "/{customer_id}/personal-data",
    responses={200: {"model": ErasureAnswer}},
    openapi_extra=problems(401, 403),
)
def erase_personal_data(
    customer_id: str, actor: ActorDep, gateway: GatewayDep, shown: PersonalDataDep
) -> Response:
    """Erase a customer's contact details and notes for good (admin, or the customer):
    their key is deleted, so every copy of the ciphertext stays unreadable."""

    def count(done: Done) -> tuple[Done, dict[str, Any]]:
        return done, {"bookings": shown.bookings_with_personal_data(customer_id)}

    return gateway.send(ErasePersonalData(actor, customer_id), then=count)
