"""Command handlers for services: create, update, deactivate, reactivate."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from commands.base import Handlers, handles, retry_on_conflict
from commands.messages import (
    CreateService,
    DeactivateService,
    Done,
    ReactivateService,
    UpdateService,
)
from domain.actor import Actor
from domain.errors import InvalidMoney, InvalidService, ServiceNotFound
from domain.service import Service, ServiceTerms
from domain.values import Money

EDITABLE = frozenset(f.name for f in dataclasses.fields(ServiceTerms))


def as_money(price: object) -> Money:
    if isinstance(price, Money):
        return price
    if isinstance(price, dict) and {"amount", "currency"} <= price.keys():
        return Money.of(price["amount"], str(price["currency"]))
    raise InvalidMoney("price must be {amount, currency}", field="price")


class ServiceHandlers(Handlers):
    @handles(CreateService)
    @retry_on_conflict
    def create_service(self, cmd: CreateService) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        return self.commit(Service.create(business.id, cmd.terms, id=cmd.target()))

    def owned_service(self, actor: Actor, service_id: UUID) -> Service:
        service = self.load(Service, service_id, ServiceNotFound)
        self.owned_business(actor, service.business_id)
        return service

    @handles(UpdateService)
    @retry_on_conflict
    def update_service(self, cmd: UpdateService) -> Done:
        unknown = set(cmd.changes) - EDITABLE
        if unknown:
            raise InvalidService(
                f"unknown service fields: {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
            )
        service = self.owned_service(cmd.actor, cmd.service_id)
        changes = dict(cmd.changes)
        if "price" in changes:
            changes["price"] = as_money(changes["price"])
        service.update(dataclasses.replace(service.terms(), **changes))
        return self.commit(service)

    @handles(DeactivateService)
    @retry_on_conflict
    def deactivate_service(self, cmd: DeactivateService) -> Done:
        service = self.owned_service(cmd.actor, cmd.service_id)
        service.deactivate()
        return self.commit(service)

    @handles(ReactivateService)
    @retry_on_conflict
    def reactivate_service(self, cmd: ReactivateService) -> Done:
        service = self.owned_service(cmd.actor, cmd.service_id)
        service.reactivate()
        return self.commit(service)
