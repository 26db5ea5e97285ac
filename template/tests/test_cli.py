"""The command line as a developer meets it: `dev`, `check`'s explanations, clean failures, Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import httpx2 as httpx
import pytest

from tests.helpers import STORE_A, STORE_B, TLS_CONTEXT, free_port, run_cli
from tests.project import CACHE_SETTINGS, PACKAGE, cli, listening_socket


class Running:
    """A CLI command in a subprocess, its output read line by line with a deadline."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", PACKAGE, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PATH": os.environ.get("PATH", ""), **env},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.errors: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines.put), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.errors.append), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str] | None, put: Callable[[str], None]) -> None:
        assert stream is not None
        for line in stream:
            put(line)

    def wait_for(self, text: str, within: float = 30) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                self.output.append(self.lines.get(timeout=0.2))
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.errors)
                continue
            if text in self.output[-1]:
                return "".join(self.output)
        raise AssertionError(f"{text!r} not printed within {within} s: {''.join(self.output)}")

    def stop(self) -> tuple[int, str, str]:
        """Ctrl-C, then the exit code, the whole output and the whole error output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        for reader in self.readers:
            reader.join(timeout=5)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return self.process.returncode, "".join(self.output), "".join(self.errors)


def test_dev_serves_prints_how_to_connect_and_stops_cleanly_on_ctrl_c(cache_settings: dict[str, Any]):
    port, sandbox_port, metrics_port = free_port(), free_port(), free_port()
    env = {name.upper(): str(value) for name, value in cache_settings.items()}
    ports = ("--port", str(port), "--sandbox-port", str(sandbox_port), "--metrics-port", str(metrics_port))
    running = Running("dev", *ports, env=env)
    try:
        printed = running.wait_for("Ctrl-C stops both")
        mcp_url = f"http://localhost:{port}/mcp"
        inspector = f"npx @modelcontextprotocol/inspector@2.12.0 --transport http --server-url {mcp_url}"
        for text in (mcp_url, inspector, "mcp-remote", "Claude Desktop", STORE_A, STORE_B):
            assert text in printed
        token = printed.split(f"({STORE_A}):\n", 1)[1].split()[0]
        deadline = time.monotonic() + 20
        while True:
            try:
                prm = httpx.get(
                    f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource", timeout=2, verify=TLS_CONTEXT
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the MCP server did not start"
                time.sleep(0.1)
        assert prm.json()["authorization_servers"] == [f"http://127.0.0.1:{sandbox_port}"]
        listed = httpx.post(
            f"http://127.0.0.1:{port}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
            timeout=10,
            verify=TLS_CONTEXT,
        )
        assert listed.status_code == 200 and listed.json()["result"]["tools"]
    finally:
        code, output, stderr = running.stop()
    assert code in (0, 130), (code, stderr)
    assert "Traceback" not in stderr and "sandbox stopped" in output, stderr
    # LOG-01 in the real log sink: the server's log (stderr) has the call, never the token it carried.
    assert "POST /mcp allowed" in stderr and token not in stderr, stderr
    listening_socket("127.0.0.1", port).close()  # both ports are free again
    listening_socket("127.0.0.1", sandbox_port).close()


def test_a_busy_port_is_one_line_that_says_which_option_to_change():
    busy = listening_socket()
    busy.listen()
    try:
        result = run_cli("sandbox", "--port", str(busy.getsockname()[1]))
    finally:
        busy.close()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot listen on 127.0.0.1" in result.stderr and "--port" in result.stderr


@pytest.mark.parametrize("args", [["dev", "--port", "70000"], ["sandbox", "--port", "0"]])
def test_a_port_out_of_range_is_refused_in_plain_words(args):
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '--port': Input should be" in result.stderr


def test_check_explains_each_bad_setting_on_its_own_line():
    result = run_cli(
        "check",
        env={
            "WHATALO_CLIENT_ID": "rs",
            "INTROSPECTION_CACHE_TTL": "90",
            "MCP_RESOURCE_URL": "http://mcp.example.com",
            **{name.upper(): value for name, value in CACHE_SETTINGS.items()},
        },
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 3, result.stderr
    assert any("INTROSPECTION_CACHE_TTL must be at most 60" in line for line in problems)
    assert any("MCP_RESOURCE_URL must use https://" in line for line in problems)
    assert any("WHATALO_CLIENT_SECRET is required" in line for line in problems)
    assert "why: Whatalo allows reusing an active introspection result for 60 seconds" in result.stderr
    assert "why: MCP_RESOURCE_URL is the public URL MCP clients reach this server at" in result.stderr


def test_unexpected_errors_are_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(**_: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(cli, "load_settings", broken)
    monkeypatch.setattr(cli, "_debug", False)
    monkeypatch.setattr(sys, "argv", ["prog", "check"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    stderr = capsys.readouterr().err
    assert "error: RuntimeError: the disk is on fire (run with --debug" in stderr and "Traceback" not in stderr

    monkeypatch.setattr(sys, "argv", ["prog", "--debug", "check"])
    with pytest.raises(RuntimeError, match="the disk is on fire"):
        cli.main()
