"""Command handlers for businesses: register, hours, closures, policy."""

from __future__ import annotations

from commands.base import Handlers, handles, retry_on_conflict
from commands.messages import AddClosure, Done, RegisterBusiness, SetHours, SetPolicy
from domain.access import STAFF_ROLES, require_role
from domain.business import Business, SlugIndex
from domain.errors import DuplicateSlug


class BusinessHandlers(Handlers):
    @handles(RegisterBusiness)
    @retry_on_conflict
    def register_business(self, cmd: RegisterBusiness) -> Done:
        require_role(cmd.actor, STAFF_ROLES)
        claim_id = SlugIndex.create_id(cmd.slug)
        if self.load_or_none(SlugIndex, claim_id) is not None:
            raise DuplicateSlug(f"the slug {cmd.slug!r} is taken", field="slug")
        business = Business.register(
            cmd.actor.id, cmd.name, cmd.slug, cmd.timezone, cmd.capacity, id=cmd.target()
        )
        return self.commit(business, SlugIndex(slug=cmd.slug, business_id=business.id))

    @handles(SetHours)
    @retry_on_conflict
    def set_hours(self, cmd: SetHours) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        business.set_hours(cmd.weekly)
        return self.commit(business)

    @handles(AddClosure)
    @retry_on_conflict
    def add_closure(self, cmd: AddClosure) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        business.add_closure(cmd.start, cmd.end, cmd.reason)
        return self.commit(business)

    @handles(SetPolicy)
    @retry_on_conflict
    def set_policy(self, cmd: SetPolicy) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        business.set_policy(cmd.policy)
        return self.commit(business)
