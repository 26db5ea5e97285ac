"""``/v1/webhooks``: webhook subscriptions; the secret shows only in the creation answer."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.routing import Route

from ..model import StoreData, make_webhook, new_id, now_iso
from .bodies import Spec, read_body, validate
from .endpoint import Endpoints
from .http import Json, deleted, invalid, lookup, paginate, path_id, sort_rows

WEBHOOK_EVENTS = frozenset({
    "order.created", "order.updated", "order.status_changed", "order.cancelled", "order.completed",
    "product.created", "product.updated", "product.deleted", "customer.created", "customer.updated",
    "checkout.completed", "checkout.abandoned",
})  # fmt: skip
WEBHOOK_SCHEMA = {"url": Spec("https", nullable=False), "events": Spec("strings", nullable=False),
                  "secret": Spec("name"), "is_active": Spec("bool", nullable=False)}  # fmt: skip


def public_webhook(webhook: Json) -> Json:
    return {k: v for k, v in webhook.items() if k != "secret"}


def webhook_fields(body: Json, creating: bool) -> Json:
    schema = WEBHOOK_SCHEMA if creating else {k: v for k, v in WEBHOOK_SCHEMA.items() if k != "secret"}
    fields = validate(body, schema, ("url", "events") if creating else ())
    if "events" in fields:
        unknown = sorted(set(fields["events"]) - WEBHOOK_EVENTS)
        if not fields["events"] or unknown:
            message = f"unknown events: {', '.join(unknown)}" if unknown else "must list at least one event"
            raise invalid("events", f"{message}; known: {', '.join(sorted(WEBHOOK_EVENTS))}")
        fields["events"] = list(dict.fromkeys(fields["events"]))
    return fields


def webhook_routes(endpoint: Endpoints) -> list[Route]:
    async def list_webhooks(request: Request, data: StoreData) -> Json:
        rows = sort_rows(request, list(data.webhooks.values()), ("created_at", "updated_at"))
        page = paginate(request, rows)
        page["data"] = [public_webhook(w) for w in page["data"]]
        return page

    async def create_webhook(request: Request, data: StoreData) -> Json:
        fields = webhook_fields(await read_body(request), creating=True)
        secret = fields.get("secret") or "whsec_" + secrets.token_hex(16)
        webhook_id = "wh_" + new_id()
        webhook = make_webhook(webhook_id, fields["url"], fields["events"], secret, now_iso(),
                               is_active=fields.get("is_active", True))  # fmt: skip
        data.webhooks[webhook_id] = webhook
        return {"data": dict(webhook)}  # the only answer that shows the secret

    async def update_webhook(request: Request, data: StoreData) -> Json:
        webhook = lookup(data.webhooks, "Webhook", path_id(request))
        webhook.update(webhook_fields(await read_body(request), creating=False), updated_at=now_iso())
        return {"data": public_webhook(webhook)}

    async def delete_webhook(request: Request, data: StoreData) -> Json:
        del data.webhooks[lookup(data.webhooks, "Webhook", path_id(request))["id"]]
        return deleted()

    return [
        Route("/v1/webhooks", endpoint("read:webhooks", list_webhooks, 200), methods=["GET"]),
        Route("/v1/webhooks", endpoint("write:webhooks", create_webhook, 201), methods=["POST"]),
        Route("/v1/webhooks/{id}", endpoint("write:webhooks", update_webhook, 200), methods=["PATCH"]),
        Route("/v1/webhooks/{id}", endpoint("write:webhooks", delete_webhook, 200), methods=["DELETE"]),
    ]
