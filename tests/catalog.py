"""Contract §8, as data: the tools each scope brings (names are fixed by the contract)."""

CONTRACT_TOOLS: dict[str, list[str]] = {
    "read:store": ["get_store"],
    "read:products": ["list_products", "get_product", "count_products"],
    "write:products": ["create_product", "update_product", "deactivate_product", "delete_product"],
    "read:categories": ["list_categories", "get_category"],
    "write:categories": ["create_category", "update_category", "delete_category"],
    "read:inventory": ["get_inventory"],
    "write:inventory": ["adjust_inventory"],
    "read:customers": ["list_customers", "get_customer"],
    "write:customers": ["create_customer", "update_customer"],
    "read:orders": ["list_orders", "get_order", "get_order_items"],
    "write:orders": ["update_order_status"],
    "read:discounts": ["list_discounts", "get_discount", "validate_discount"],
    "write:discounts": ["create_discount", "update_discount", "delete_discount"],
    "read:webhooks": ["list_webhooks"],
    "write:webhooks": ["create_webhook", "delete_webhook"],
}

SEED_DEFAULT = [
    "read:store",
    "read:products",
    "write:products",
    "read:inventory",
    "write:inventory",
    "read:categories",
    "write:categories",
    "read:customers",
    "read:orders",
    "write:orders",
]
