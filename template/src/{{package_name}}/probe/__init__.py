"""``probe``: checks any deployed MCP server from the outside, as an OAuth resource server.

It behaves as an MCP client would (no knowledge of this project's internals), so it imports
nothing of the server: only the URL rules (``urls.py``). ``runner.run_probe`` is the entry;
``results.CATALOG`` lists every check with what it wants.
"""
