"""Typed domain errors; the APIs map each family to one HTTP status in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every rule the domain refuses; `code` is the stable problem slug."""

    code = "domain-error"
    title = "Request refused"
    # True when the same request may well succeed if sent again (nothing was done).
    transient = False

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    def members(self) -> dict[str, Any]:
        """Extension members the problem carries besides type, title, status and detail."""
        return {}


class InvalidInput(DomainError):
    code = "invalid-input"
    title = "Invalid input"


class NotFound(DomainError):
    code = "not-found"
    title = "Not found"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Forbidden"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class InvalidTimezone(InvalidInput):
    code = "invalid-timezone"
    title = "Unknown time zone"


class InvalidHours(InvalidInput):
    code = "invalid-hours"
    title = "Invalid opening hours"


class InvalidClosure(InvalidInput):
    code = "invalid-closure"
    title = "Invalid closure"


class InvalidMoney(InvalidInput):
    code = "invalid-money"
    title = "Invalid money amount"


class InvalidService(InvalidInput):
    code = "invalid-service"
    title = "Invalid service"


class StartNotOffered(InvalidInput):
    code = "start-not-offered"
    title = "Start time not offered"


class TooLittleNotice(InvalidInput):
    code = "too-little-notice"
    title = "Too little notice"


class TooFarAhead(InvalidInput):
    code = "too-far-ahead"
    title = "Too far ahead"


class BusinessNotFound(NotFound):
    code = "business-not-found"
    title = "Business not found"


class ServiceNotFound(NotFound):
    code = "service-not-found"
    title = "Service not found"


class ClosureNotFound(NotFound):
    code = "closure-not-found"
    title = "Closure not found"


class ResourceNotFound(NotFound):
    code = "resource-not-found"
    title = "Resource not found"


class TimeOffNotFound(NotFound):
    code = "time-off-not-found"
    title = "Time off not found"


class SeriesNotFound(NotFound):
    code = "series-not-found"
    title = "Series not found"


class BookingNotFound(NotFound):
    code = "booking-not-found"
    title = "Booking not found"


class WaitlistEntryNotFound(NotFound):
    code = "waitlist-entry-not-found"
    title = "Waitlist entry not found"


class NotYourBusiness(Forbidden):
    code = "not-your-business"
    title = "Not your business"


class NotYourBooking(Forbidden):
    code = "not-your-booking"
    title = "Not your booking"


class NotYourWaitlistEntry(Forbidden):
    code = "not-your-waitlist-entry"
    title = "Not your waitlist entry"


class RoleNotAllowed(Forbidden):
    code = "role-not-allowed"
    title = "Role not allowed"


class SlotUnavailable(Conflict):
    code = "slot-unavailable"
    title = "Slot unavailable"


class SlotAvailable(Conflict):
    """A waitlist is for full starts only: this one can be booked now."""

    code = "slot-available"
    title = "Slot available"


class AlreadyWaiting(Conflict):
    """The customer is in line for that start already (the problem names the entry)."""

    code = "already-waiting"
    title = "Already on the waitlist"

    def __init__(self, detail: str, entry_id: str) -> None:
        super().__init__(detail, field="start")
        self.entry_id = entry_id

    def members(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id}


class OfferExpired(Conflict):
    code = "offer-expired"
    title = "Offer expired"


class IllegalTransition(Conflict):
    code = "illegal-transition"
    title = "Illegal booking transition"


class DuplicateSlug(Conflict):
    code = "duplicate-slug"
    title = "Slug already taken"


class ServiceInactive(Conflict):
    code = "service-inactive"
    title = "Service inactive"


class ServiceActive(Conflict):
    code = "service-active"
    title = "Service already active"


class BookingsAffected(Conflict):
    """The change would leave bookings outside opening time or over capacity."""

    code = "bookings-affected"
    title = "Bookings affected"

    def __init__(self, detail: str, affected: list[dict[str, Any]], *, field: str) -> None:
        super().__init__(detail, field=field)
        self.affected = affected

    def members(self) -> dict[str, Any]:
        return {"affected_bookings": self.affected}


class ResourceStateConflict(Conflict):
    code = "resource-state"
    title = "Resource already in that state"


class CancellationDeadlinePassed(Conflict):
    code = "cancellation-deadline-passed"
    title = "Cancellation deadline passed"


class ConcurrencyConflict(Conflict):
    """Concurrent writers won every attempt: nothing was done, and a retry may succeed."""

    code = "version-conflict"
    title = "Concurrent update conflict"
    transient = True


class PaymentIntentConflict(Conflict):
    """The booking already has another payment intent; the newer one is not its payment."""

    code = "payment-intent-conflict"
    title = "Payment intent conflict"


class PaymentsNotConfigured(Conflict):
    code = "payments-not-configured"
    title = "Payments not configured"


class Unavailable(DomainError):
    """A service SlotWise depends on did not answer; nothing was lost, retry later."""

    code = "unavailable"
    title = "Service unavailable"
    transient = True
    retry_after = 5


class PaymentProviderUnavailable(Unavailable):
    code = "payment-provider-unavailable"
    title = "Payment provider unavailable"


class BadWebhook(DomainError):
    """A webhook whose signature, age or body does not check out (400: nothing recorded)."""

    code = "invalid-webhook"
    title = "Webhook refused"
