"""A local Whatalo: authorization server and REST API v1 emulator, for dev and tests.

Never deployed: the production image leaves this package out.
"""
