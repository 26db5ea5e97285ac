"""The sandbox's REST API v1 (``api.whatalo.com``) over the demo stores' data.

Whatalo's envelopes, page-based pagination, error codes and rate-limit headers
(https://developers.whatalo.com/docs/api/). Requests authenticate with
``Authorization: Bearer`` and a token the sandbox issued for this API's
audience; the data is always the token's store (no path carries a store id).

``http.py`` holds the envelope and the query parameters, ``bodies.py`` the
request bodies, ``endpoint.py`` what every call goes through (token, scope, rate
limit, test faults); one module per resource family holds its routes, and
``routes.py`` puts them together.
"""
