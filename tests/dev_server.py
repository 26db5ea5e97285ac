"""A rendered project's `dev` command, run as a user would, for the tests of real MCP clients."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ENV, ROOT, UV, free_port, render, require, run

COMMAND = "inspector-check"  # the command of a project named "Inspector Check"
CAFE, ANDES = "str_8k2m4n6p", "str_3j5h7g9f"  # the sandbox's demo stores, in the order `dev` prints them


def npm_installed(name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``tests/<name>`` with its pinned npm packages installed, once per test run: pytest-xdist
    workers share it (the first one installs, under a lock; the others wait for it)."""
    npm = require("node", "npm")["npm"]
    source = ROOT / "tests" / name
    files = sorted(path for path in source.iterdir() if path.is_file())
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()[:12]
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory, above each worker's own
    target = shared / f"npm-{name}-{digest}"
    with open(shared / f"npm-{name}-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (target / "node_modules" / ".installed").exists():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules", "package-lock.json"))
            installed = run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=target, timeout=600)
            assert installed.returncode == 0, f"npm install in tests/{name}:\n{installed.stdout}{installed.stderr}"
            (target / "node_modules" / ".installed").touch()
    return target


def synced_project(copie: Any) -> Path:
    """The default render, named so its command is ``COMMAND``, with its environment synced."""
    project = render(copie, project_name="Inspector Check")
    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    return project


@dataclass
class Dev:
    """A running server: its MCP URL, the ready token printed per store id, and its output so far."""

    mcp_url: str
    tokens: dict[str, str]
    output: Callable[[], str]


@contextmanager
def running_dev(project: Path, *options: str) -> Iterator[Dev]:
    """Run ``dev`` (with ``options``) on free ports until it serves; yield it; stop it with Ctrl-C."""
    port, sandbox_port = free_port(), free_port()
    if "--metrics-port" not in options:  # dev's default, the MCP port + 1, may be taken
        options = (*options, "--metrics-port", str(free_port()))
    ports = ["--port", str(port), "--sandbox-port", str(sandbox_port)]
    command = [UV, "run", "--no-sync", COMMAND, "dev", *ports, *options]
    with _started(command, project, {}, "Ctrl-C stops both") as (process, output):
        wait_until_ready(f"http://127.0.0.1:{port}/readyz", process, output)
        yield Dev(f"http://localhost:{port}/mcp", printed_tokens(output()), output)


@contextmanager
def running_sandbox_and_server(project: Path) -> Iterator[tuple[Dev, subprocess.Popen[bytes]]]:
    """``sandbox`` and ``serve`` as two processes, wired as ``sandbox`` says, so that a test can stop
    the sandbox alone (Whatalo down). Yields the server (with the sandbox's tokens) and the sandbox."""
    port, sandbox_port = free_port(), free_port()
    resource_url = f"http://localhost:{port}"
    command = [UV, "run", "--no-sync", COMMAND, "sandbox", "--port", str(sandbox_port), "--resource-url", resource_url]
    with _started(command, project, {}, "Ctrl-C stops the sandbox") as (sandbox, sandbox_output):
        printed = sandbox_output()
        settings = dict(re.findall(r"^  ((?:WHATALO|MCP)_[A-Z_]+)=(\S+)$", printed, re.MULTILINE))
        assert settings.get("MCP_RESOURCE_URL") == resource_url, printed
        env = {**settings, "MCP_HOST": "127.0.0.1", "MCP_PORT": str(port)}
        with _started([UV, "run", "--no-sync", COMMAND, "serve"], project, env, None) as (server, output):
            wait_until_ready(f"http://127.0.0.1:{port}/readyz", server, output)
            yield Dev(f"{resource_url}/mcp", printed_tokens(printed), output), sandbox


@contextmanager
def _started(
    command: list[str], project: Path, env: dict[str, str], ready_line: str | None
) -> Iterator[tuple[subprocess.Popen[bytes], Callable[[], str]]]:
    """Start ``command`` in ``project``, its output going to a file (a pipe that nobody reads fills up
    and blocks the server); wait until it has printed ``ready_line`` (bounded); stop it after."""
    with tempfile.TemporaryFile() as log:

        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")

        process = subprocess.Popen(
            command,
            cwd=project,
            env={**ENV, **env, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while ready_line is not None and ready_line not in output():
                assert time.monotonic() < deadline and process.poll() is None, output()
                time.sleep(0.1)
            yield process, output
        finally:
            stop(process, signal.SIGINT)


def printed_tokens(printed: str) -> dict[str, str]:
    """The ready Bearer tokens printed by ``dev`` or ``sandbox``, by store id."""
    tokens = dict(re.findall(r"^  .+ \((str_\w+)\):\n    (\S+)$", printed, re.MULTILINE))
    assert set(tokens) == {CAFE, ANDES}, f"no ready token per demo store in:\n{printed}"
    return tokens


def wait_until_ready(url: str, process: subprocess.Popen[bytes], output: Callable[[], str]) -> None:
    """Poll ``url`` (the server's ``/readyz``) until it answers 200, bounded."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, f"not ready at {url}:\n{output()}"
        time.sleep(0.2)


def stop(process: subprocess.Popen[Any], sig: int) -> None:
    """Stop ``process`` and its children (started with ``start_new_session``), bounded."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def _http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Status, ``Location`` and body of one request, redirects not followed."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as response:
            return response.status, response.headers.get("location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("location", ""), error.read().decode()


def sign_in(mcp_url: str, store: str, scopes: list[str]) -> str:
    """An access token for ``store`` with ``scopes``, through the sandbox's OAuth flow as a public client
    would get it (protected resource metadata, DCR, authorize with PKCE, consent, code exchange)."""
    origin = urllib.parse.urlsplit(mcp_url)._replace(path="", query="").geturl()
    resource = json.loads(_http(f"{origin}/.well-known/oauth-protected-resource")[2])
    issuer = resource["authorization_servers"][0]
    metadata = json.loads(_http(f"{issuer}/.well-known/oauth-authorization-server")[2])
    redirect_uri = "http://127.0.0.1:9/callback"
    registration = {
        "client_name": "template test",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    status, _, body = _http(
        metadata["registration_endpoint"], json.dumps(registration).encode(), {"Content-Type": "application/json"}
    )
    assert status == 201, body
    client_id = json.loads(body)["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": "template-test",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": resource["resource"],
    }
    page = _http(f"{metadata['authorization_endpoint']}?{urllib.parse.urlencode(query)}")[2]
    consent = re.search(r'name="consent" value="([^"]+)"', page)
    assert consent, page[:300]
    form = [("consent", html.unescape(consent[1])), ("store", store), ("decision", "approve")]
    form += [("scope", scope) for scope in scopes]
    status, location, body = _http(metadata["authorization_endpoint"], urllib.parse.urlencode(form).encode())
    assert status == 302, body
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": verifier,
        "resource": resource["resource"],
    }
    status, _, body = _http(metadata["token_endpoint"], urllib.parse.urlencode(exchange).encode())
    assert status == 200, body
    token: str = json.loads(body)["access_token"]
    return token
