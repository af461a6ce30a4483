"""Command handlers for businesses: register, hours, closures, policy."""

from __future__ import annotations

from commands.base import STAFF_ROLES, Handlers, require_role
from commands.messages import AddClosure, Done, RegisterBusiness, SetHours, SetPolicy
from domain.business import Business, SlugIndex
from domain.errors import DuplicateSlug


class BusinessHandlers(Handlers):
    def register_business(self, cmd: RegisterBusiness) -> Done:
        require_role(cmd.actor, STAFF_ROLES)
        business = Business.register(cmd.actor.id, cmd.name, cmd.slug, cmd.timezone, cmd.capacity)
        claim = SlugIndex(slug=cmd.slug, business_id=business.id)

        def slug_taken() -> None:
            if self.load_or_none(SlugIndex, claim.id) is not None:
                raise DuplicateSlug(f"the slug {cmd.slug!r} is taken", field="slug")

        slug_taken()
        return self.retrying(lambda: self.commit(business, claim), on_conflict=slug_taken)

    def set_hours(self, cmd: SetHours) -> Done:
        def attempt() -> Done:
            business = self.owned_business(cmd.actor, cmd.business_id)
            business.set_hours(cmd.weekly)
            return self.commit(business)

        return self.retrying(attempt)

    def add_closure(self, cmd: AddClosure) -> Done:
        def attempt() -> Done:
            business = self.owned_business(cmd.actor, cmd.business_id)
            business.add_closure(cmd.start, cmd.end, cmd.reason)
            return self.commit(business)

        return self.retrying(attempt)

    def set_policy(self, cmd: SetPolicy) -> Done:
        def attempt() -> Done:
            business = self.owned_business(cmd.actor, cmd.business_id)
            business.set_policy(cmd.policy)
            return self.commit(business)

        return self.retrying(attempt)
