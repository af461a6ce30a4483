"""A business's notification settings and its calendar feed's secret address."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from commands.notifications import SetNotifications
from domain.notify import NotificationSettings
from infra.web.deps import ActorDep
from infra.web.openapi import problems
from write_api.gateway import GatewayDep
from write_api.ports import FeedKeysDep, OwnersDep, ReadApiUrlDep
from write_api.schemas import CalendarFeedAnswer, CommandResult, NotificationsUpdate

router = APIRouter(tags=["notifications"])


@router.put(
    "/v1/businesses/{business_id}/notifications",
    responses={200: {"model": CommandResult}},
    openapi_extra=problems(401, 403, 404, 409),
)
def set_notifications(
    business_id: UUID, body: NotificationsUpdate, actor: ActorDep, gateway: GatewayDep
) -> Response:
    """Email the business at `notify_email`, remind customers `reminders` before the start."""
    settings = NotificationSettings(
        body.notify_email, tuple(body.reminders), body.locale, body.sms, body.waitlist_offer_minutes
    )
    return gateway.send(SetNotifications(actor, business_id, settings))


@router.post(
    "/v1/businesses/{business_id}/calendar-feed",
    status_code=201,
    response_model=CalendarFeedAnswer,
    openapi_extra=problems(401, 403, 404),
)
async def rotate_calendar_feed(
    business_id: UUID,
    actor: ActorDep,
    owners: OwnersDep,
    feeds: FeedKeysDep,
    read_api_url: ReadApiUrlDep,
) -> Response:
    """Create or rotate the business's calendar feed; the previous address stops working."""
    await run_in_threadpool(owners.owned_business, actor, business_id)
    key = await run_in_threadpool(feeds.rotate, str(business_id))
    base = read_api_url.rstrip("/")
    return JSONResponse({"url": f"{base}/v1/calendar/{key}.ics"}, status_code=201)
