"""MCP Inspector against a rendered project's `dev`, in both protocol eras: its CLI and the README's steps.

Renders the default project, checks that its README names the Inspector version pinned in
tests/inspector/package.json, and runs its `dev` once for the module. The Inspector (with the
Node.js 22 it needs, from the same package.json) chooses the era with `--protocol-era legacy|modern`,
in its CLI as in its web UI:

- the CLI, with `dev`'s ready tokens as a Bearer header: tools/list, get_store on each token's
  store, an unknown argument and an out-of-range value (tool errors, exit 5), a missing scope (403:
  the challenge's scopes as the CLI shows them differ by era), a rejected token (401, exit 3), and
  Whatalo down (503, with `sandbox` and `serve` run apart so that the sandbox can stop alone);
- the web UI, clicked through in headless Chromium (tests/inspector/inspector_flow.mjs): the
  sign-in through the sandbox's consent page, `get_store` on the store picked, refused arguments
  typed as JSON, and the step-up of a permission left unticked.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, require, run
from tests.dev_server import (
    ANDES,
    CAFE,
    Dev,
    npm_installed,
    running_dev,
    running_sandbox_and_server,
    sign_in,
    stop,
    synced_project,
)

STORE_NAME = "Andes Outdoor"  # the sandbox's second demo store, so that a default store cannot pass by chance
ERAS = ["legacy", "modern"]
TOOL_ERROR, AUTH_REQUIRED = 5, 3  # the CLI's exit codes (clients/cli: EXIT_CODES)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inspector(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return npm_installed("inspector", tmp_path_factory)


@pytest.fixture(scope="module")
def project(copie_session: Any) -> Path:
    return synced_project(copie_session)


@pytest.fixture(scope="module")
def dev(project: Path) -> Iterator[Dev]:
    with running_dev(project) as dev:
        yield dev


def node_env(inspector: Path, home: Path) -> dict[str, str]:
    """The environment of an Inspector run: the `node` package's Node.js 22 first on the PATH."""
    return {
        **os.environ,
        "PATH": f"{inspector / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),  # the Inspector's catalog and stored OAuth state
        "NODE_NO_WARNINGS": "1",
    }


def test_readme_names_the_pinned_inspector(project: Path) -> None:
    version = json.loads((Path(__file__).parent / "inspector" / "package.json").read_text())["dependencies"][
        "@modelcontextprotocol/inspector"
    ]
    readme_command = f"npx @modelcontextprotocol/inspector@{version} --transport http --server-url"
    assert readme_command in (project / "README.md").read_text(), "the README names another Inspector"


class Cli:
    """`mcp-inspector --cli` against one server in one era, with a Bearer token, never an OAuth prompt."""

    def __init__(self, inspector: Path, home: Path, mcp_url: str, era: str) -> None:
        self.inspector, self.env, self.mcp_url, self.era = inspector, node_env(inspector, home), mcp_url, era

    def __call__(self, token: str, *args: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """Exit code, the JSON on stdout (the result), the JSON on stderr (the error envelope)."""
        command = ["mcp-inspector", "--cli", "--server-url", self.mcp_url, "--protocol-era", self.era]
        command += ["--header", f"Authorization: Bearer {token}", "--stored-auth-only", "--format", "json", *args]
        done = run(command, cwd=self.inspector, timeout=60, env=self.env)
        printed = done.stdout + done.stderr
        assert token not in printed, "the CLI printed the token"
        try:
            out = json.loads(done.stdout) if done.stdout.strip() else {}
            return done.returncode, out, error_envelope(done.stderr)
        except ValueError:
            raise AssertionError(f"not the CLI's JSON (exit {done.returncode}):\n{printed}") from None

    def call(self, token: str, tool: str, **arguments: object) -> tuple[int, dict[str, Any], dict[str, Any]]:
        args = [arg for key, value in arguments.items() for arg in ("--tool-arg", f"{key}={value}")]
        return self(token, "--method", "tools/call", "--tool-name", tool, *args)


def error_envelope(stderr: str) -> dict[str, Any]:
    """The CLI's error envelope: the last line of stderr that is a JSON object (warnings may come first)."""
    objects = [line for line in stderr.splitlines() if line.startswith("{")]
    return json.loads(objects[-1]) if objects else {}


def tool_text(out: dict[str, Any]) -> str:
    return "\n".join(part.get("text", "") for part in out.get("result", {}).get("content", []))


@pytest.mark.parametrize("era", ERAS)
def test_inspector_cli_calls_tools_and_shows_each_refusal(era: str, inspector: Path, dev: Dev, tmp_path: Path) -> None:
    cli = Cli(inspector, tmp_path / "home", dev.mcp_url, era)

    code, out, err = cli(dev.tokens[ANDES], "--method", "tools/list")
    assert code == 0, err
    names = {tool["name"] for tool in out["result"]["tools"]}
    assert {"get_store", "count_products", "list_products", "list_customers"} <= names

    for store, token in dev.tokens.items():  # each token answers for its own store
        code, out, err = cli.call(token, "get_store")
        assert code == 0, err
        assert out["result"]["structuredContent"]["data"]["id"] == store

    # An argument the tool does not take: a tool error (exit 5), not an invalid result (exit 1).
    code, out, err = cli.call(dev.tokens[ANDES], "count_products", bogus=1)
    assert (code, err["error"]["code"]) == (TOOL_ERROR, "tool_is_error"), (code, out, err)
    assert out["result"]["isError"] is True
    assert tool_text(out) == "count_products: unknown argument(s) bogus; it takes status"

    code, out, err = cli.call(dev.tokens[CAFE], "list_products", per_page=1000)
    assert (code, err["error"]["code"]) == (TOOL_ERROR, "tool_is_error"), (code, out, err)
    assert "per_page" in tool_text(out)

    # A token without read:store: get_store is refused with the scopes to ask for, which depend on
    # the era (legacy: the grant and the need; modern: the need), and count_products still answers.
    narrow = sign_in(dev.mcp_url, ANDES, ["read:products"])
    code, out, err = cli.call(narrow, "get_store")
    needed = "read:products read:store" if era == "legacy" else "read:store"
    assert code != 0 and err["error"]["message"] == f'Insufficient scope: required "{needed}"', (code, err)
    code, out, err = cli.call(narrow, "count_products")
    assert code == 0 and out["result"]["isError"] is False, err

    # A token the server does not accept: "sign in again", whatever the era.
    code, out, err = cli("not-a-token-the-sandbox-issued", "--method", "tools/list")
    assert (code, err["error"]["code"]) == (AUTH_REQUIRED, "auth_required"), (code, err)
    assert "401" in err["error"]["message"] or "invalid_token" in err["error"]["message"], err


def test_inspector_cli_when_whatalo_is_down(inspector: Path, project: Path, tmp_path: Path) -> None:
    with running_sandbox_and_server(project) as (server, sandbox):
        stop(sandbox, signal.SIGINT)
        for era in ERAS:
            cli = Cli(inspector, tmp_path / "home", server.mcp_url, era)
            code, _, err = cli(server.tokens[ANDES], "--method", "tools/list")
            # 503, not 401: the CLI does not send the user to sign in again ("auth_required").
            assert code != 0 and err["error"]["status"] == 503, (era, code, err)
            assert err["error"]["code"] != "auth_required", (era, err)


@pytest.mark.parametrize("era", ERAS)
def test_readme_steps_reach_a_tool_call_in_mcp_inspector(era: str, inspector: Path, dev: Dev, tmp_path: Path) -> None:
    chromium = require("chromium")["chromium"]
    env = {
        **node_env(inspector, tmp_path / "home"),
        "CLIENT_PORT": str(free_port()),
        "MCP_SANDBOX_PORT": "0",
        "MCP_APP_ORIGIN_PORT": "0",
        "MCP_INSPECTOR_API_TOKEN": secrets.token_hex(16),
        "MCP_AUTO_OPEN_ENABLED": "false",
    }
    inspector_url = f"http://127.0.0.1:{env['CLIENT_PORT']}/?MCP_INSPECTOR_API_TOKEN={env['MCP_INSPECTOR_API_TOKEN']}"
    log_path = tmp_path / "inspector.log"
    with log_path.open("w") as log:
        web = subprocess.Popen(
            ["mcp-inspector", "--transport", "http", "--server-url", dev.mcp_url, "--protocol-era", era],
            cwd=inspector,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_serving(inspector_url, web, log_path)
            flow = run(
                ["node", "inspector_flow.mjs", inspector_url, dev.mcp_url, STORE_NAME, era, str(tmp_path / "shots")],
                cwd=inspector,
                timeout=300,
                env={**env, "CHROMIUM": chromium},
            )
        finally:
            stop(web, signal.SIGTERM)
    assert flow.returncode == 0, flow.stdout + flow.stderr + log_path.read_text()


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            assert time.monotonic() < deadline, "MCP Inspector did not serve its page:\n" + log.read_text()
            time.sleep(0.5)
