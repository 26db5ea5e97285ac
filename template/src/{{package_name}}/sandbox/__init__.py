"""A local Whatalo: authorization server and REST API v1 emulator, for dev and tests.

Never deployed: the production image leaves this package out. ``app.py`` serves
both halves on one origin: the authorization server (``authserver.py``, with
``registration.py`` and ``consent.py``; ``oauth.py`` is what they share) and the
REST API (``api/``). Both work on one ``state.py``: clients, codes, tokens and
the stores' data (its model in ``model.py``, the two demo stores in
``demo.py``). ``scopes.py`` is Whatalo's scope catalog.
"""
