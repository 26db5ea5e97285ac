"""What every REST API call goes through before its handler: bearer token, audience, scope, rate limit, test faults.

Test hook: ``state.api_faults`` (the next call answers that error instead).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..model import StoreData
from ..state import SandboxState
from .http import ApiError, Json

Handler = Callable[[Request, StoreData], Awaitable[Json]]

RATE_LIMIT = 1000  # requests per minute and token, as for a live API key


class RateLimiter:
    """Counts requests per key and minute, for the X-RateLimit-* headers and 429."""

    def __init__(self, limit: int = RATE_LIMIT) -> None:
        self.limit = limit
        self.windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> tuple[dict[str, str], int | None]:
        now = time.time()
        window = int(now // 60)
        if len(self.windows) > 10_000:
            self.windows = {k: v for k, v in self.windows.items() if v[0] == window}
        start, count = self.windows.get(key, (window, 0))
        count = count + 1 if start == window else 1
        self.windows[key] = (window, count)
        reset = (window + 1) * 60
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - count)),
            "X-RateLimit-Reset": str(reset),
        }
        return headers, (max(1, reset - int(now)) if count > self.limit else None)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authorize(state: SandboxState, token: str | None, scope: str) -> StoreData:
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    if token is None:
        raise ApiError(401, "UNAUTHORIZED", "Missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    issued = state.active(token)
    if issued is None or issued.token_type != "access_token" or issued.store_id not in state.stores:
        raise ApiError(401, "UNAUTHORIZED", "The access token is invalid, expired or revoked", headers=challenge)
    if issued.aud != state.api_url:
        message = f"The access token was not issued for {state.api_url}"
        raise ApiError(401, "INVALID_AUDIENCE", message, headers=challenge)
    if scope not in issued.scopes:
        raise ApiError(
            403,
            "INSUFFICIENT_SCOPE",
            f"This request requires the {scope} scope",
            {"required_scope": scope},
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )
    return state.stores[issued.store_id]


class Endpoints:
    """Makes the REST API's endpoints for one sandbox state, with one rate limiter for them all."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.limiter = RateLimiter()

    def prologue(self, request: Request) -> tuple[str | None, dict[str, str], int | None]:
        """Every call, routed or not: record its bearer token, count it; the rate-limit headers and wait."""
        token = bearer_token(request)
        if token is not None:
            self.state.api_bearer_tokens.append(token)
            self.state.counters.api_calls += 1
        host = request.client.host if request.client else "unknown"
        headers, retry_after = self.limiter.hit(f"token:{token}" if token else f"ip:{host}")
        return token, headers, retry_after

    def __call__(self, scope: str, handler: Handler, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
        """The endpoint that runs ``handler`` on the token's store once the call may have ``scope``."""
        state = self.state

        async def run(request: Request) -> Response:
            token, headers, retry_after = self.prologue(request)
            try:
                data = authorize(state, token, scope)
                if retry_after is not None:
                    message = f"Rate limit exceeded. Try again in {retry_after} seconds."
                    raise ApiError(429, "RATE_LIMITED", message, headers={"Retry-After": str(retry_after)})
                if state.api_faults:
                    fault = state.api_faults.pop(0)
                    extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                    if fault.status == 429:
                        extra["X-RateLimit-Remaining"] = "0"
                        extra["X-RateLimit-Reset"] = str(int(time.time()) + (fault.retry_after or 60))
                    raise ApiError(fault.status, fault.code, fault.message, headers=extra)
                payload = await handler(request, data)
            except ApiError as error:
                return error.response(headers)
            return JSONResponse(payload, status_code=status, headers=headers)

        return run
