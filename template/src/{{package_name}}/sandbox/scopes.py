"""Whatalo's OAuth scopes, each with the one line the consent page shows beside it.

Every scope Whatalo defines, whichever this project's server enforces: the
fifteen of its discovery document's ``scopes_supported``
(https://developers.whatalo.com/docs/api/oauth/discovery) and the two category
scopes of its API-key scope table (https://developers.whatalo.com/docs/api/authentication),
which its MCP guide advertises (https://developers.whatalo.com/docs/api/oauth/building-mcp-servers).
Whatalo documents no REST endpoint for ``write:store`` or ``read:analytics``, so
no route of the sandbox's API asks for them.
"""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "read:store": "read the store's profile and settings",
    "write:store": "update the store's settings",
    "read:products": "list, read and count products",
    "write:products": "create, update, deactivate and delete products",
    "read:categories": "list and read categories",
    "write:categories": "create, update and delete categories",
    "read:inventory": "read stock levels of products and variants",
    "write:inventory": "adjust stock with a recorded reason",
    "read:customers": "list and read customers",
    "write:customers": "create and update customers",
    "read:orders": "list and read orders and their items",
    "write:orders": "change an order's status or payment status",
    "read:discounts": "list, read and validate discount codes",
    "write:discounts": "create, update and delete discount codes",
    "read:webhooks": "list webhook subscriptions",
    "write:webhooks": "create and delete webhook subscriptions",
    "read:analytics": "read the store's analytics",
}
