"""``/v1/store``: the token's store."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from ..model import StoreData
from .endpoint import Endpoints
from .http import Json


async def get_store(request: Request, data: StoreData) -> Json:
    return {"data": data.store}


def store_routes(endpoint: Endpoints) -> list[Route]:
    return [Route("/v1/store", endpoint("read:store", get_store), methods=["GET"])]
