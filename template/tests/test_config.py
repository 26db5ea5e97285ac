"""Configuration: the defaults, errors that are one clear line each; the command line works."""

from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.helpers import RS_CLIENT_ID, run_cli
from tests.project import CACHE_SETTINGS, COMMAND, DEFAULT_CACHE_URL, ConfigError, cli, load_settings

BASE = {"whatalo_client_id": "id", "whatalo_client_secret": "s3cr3t-value", **CACHE_SETTINGS}
CACHE_ENV = {name.upper(): value for name, value in CACHE_SETTINGS.items()}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("WHATALO_", "MCP_", "INTROSPECTION_", "CACHE_", "LOG_LEVEL", "LOG_FORMAT", "METRICS_PORT")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def test_defaults_are_whatalos_production_and_a_local_server():
    settings = load_settings(**BASE)
    assert settings.whatalo_issuer == "https://app.whatalo.com"
    assert settings.whatalo_api_url == "https://api.whatalo.com"
    assert settings.whatalo_client_auth_method == "client_secret_basic"
    assert settings.mcp_resource_url == "http://localhost:8000"
    assert (settings.mcp_host, settings.mcp_port) == ("127.0.0.1", 8000)
    assert settings.introspection_cache_ttl == 60
    assert settings.cache_url == DEFAULT_CACHE_URL
    assert settings.log_level == "INFO"
    assert settings.log_format == "text" and settings.metrics_port is None  # no telemetry unless asked


def test_metrics_port_and_log_format_from_the_environment(monkeypatch):
    monkeypatch.setenv("METRICS_PORT", "9464")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    settings = load_settings(**BASE)
    assert settings.metrics_port == 9464 and settings.log_format == "json"
    monkeypatch.setenv("METRICS_PORT", "")  # as .env.example leaves it: off
    assert load_settings(**BASE).metrics_port is None


@pytest.mark.parametrize(
    "overrides, variable, words",
    [
        ({"whatalo_client_id": None}, "WHATALO_CLIENT_ID", "required"),
        ({"whatalo_client_secret": None}, "WHATALO_CLIENT_SECRET", "required"),
        ({"whatalo_client_secret": ""}, "WHATALO_CLIENT_SECRET", "must not be empty"),
        ({"introspection_cache_ttl": 61}, "INTROSPECTION_CACHE_TTL", "at most 60"),
        ({"mcp_resource_url": "http://mcp.example.com"}, "MCP_RESOURCE_URL", "https://"),
        ({"whatalo_issuer": "http://app.whatalo.com"}, "WHATALO_ISSUER", "https://"),
        ({"whatalo_api_url": "api.whatalo.com"}, "WHATALO_API_URL", "absolute"),
        ({"mcp_resource_url": "https://mcp.example.com/"}, "MCP_RESOURCE_URL", "'/'"),
        ({"whatalo_client_auth_method": "private_key_jwt"}, "WHATALO_CLIENT_AUTH_METHOD", "client_secret_basic"),
        ({"mcp_port": 70000}, "MCP_PORT", "65535"),
        ({"cache_url": "ftp://cache.example"}, "CACHE_URL", "must"),
        ({"whatalo_api_url": "https://user:hunter2@api.whatalo.com"}, "WHATALO_API_URL", "credentials"),
        ({"log_format": "xml"}, "LOG_FORMAT", "'text' or 'json'"),
        ({"metrics_port": 0}, "METRICS_PORT", "1"),
    ],
)
def test_config_errors_name_the_variable(overrides, variable, words):
    values = {**BASE, **overrides}
    values = {key: value for key, value in values.items() if value is not None}
    with pytest.raises(ConfigError) as caught:
        load_settings(**values)
    message = str(caught.value)
    assert variable in message and words in message
    assert "\n" not in message and "s3cr3t-value" not in message and "hunter2" not in message


@pytest.mark.parametrize(
    "url", ["http://localhost:8000", "http://127.0.0.1:9000", "http://[::1]:8000", "https://x.example/mcp"]
)
def test_loopback_http_and_https_accepted(url):
    assert load_settings(**BASE, mcp_resource_url=url).mcp_resource_url == url


def test_serve_without_configuration_is_one_line_no_traceback():
    result = run_cli("serve", env={"INTROSPECTION_CACHE_TTL": "300"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "WHATALO_CLIENT_ID" in lines[0] and "INTROSPECTION_CACHE_TTL" in lines[0]


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("serve", "dev", "sandbox", "check"):
        assert command in result.stdout


def test_the_installed_command_is_the_command_line():
    """``<project_slug>`` is installed (next to this interpreter) and runs the same ``main`` as ``python -m``."""
    (script,) = [entry for entry in entry_points(group="console_scripts") if entry.name == COMMAND]
    assert script.load() is cli.main
    assert Path(sys.executable).with_name(COMMAND).is_file()


def test_check_against_the_sandbox(sandbox_server, cache_settings):
    state, secret = sandbox_server.state, sandbox_server.client_secret
    env = {
        "WHATALO_ISSUER": state.issuer,
        "WHATALO_API_URL": state.api_url,
        "WHATALO_CLIENT_ID": RS_CLIENT_ID,
        **CACHE_ENV,
        **{name.upper(): value for name, value in cache_settings.items()},
    }
    ok = run_cli("check", env={**env, "WHATALO_CLIENT_SECRET": secret})
    assert ok.returncode == 0, ok.stderr
    assert "all checks passed" in ok.stdout and "... ok" in ok.stdout.split("cache (", 1)[1]
    wrong = run_cli("check", env={**env, "WHATALO_CLIENT_SECRET": "wrong"})
    assert wrong.returncode == 1
    assert "WHATALO_CLIENT_SECRET" in wrong.stderr and "wrong" not in wrong.stderr.replace("WHATALO", "")
    assert "refused this server's credentials" in wrong.stderr
    mismatch = run_cli(
        "check",
        env={**env, "WHATALO_CLIENT_SECRET": secret, "WHATALO_ISSUER": state.issuer.replace("127.0.0.1", "localhost")},
    )
    assert mismatch.returncode == 1 and "issuer mismatch" in mismatch.stderr
    assert "fix: set WHATALO_ISSUER to exactly the issuer" in mismatch.stderr
    down = run_cli("check", env={**env, "WHATALO_CLIENT_SECRET": secret, "WHATALO_ISSUER": "http://127.0.0.1:9"})
    assert down.returncode == 1 and "cannot reach" in down.stderr and "fix: check WHATALO_ISSUER" in down.stderr
    for result in (wrong, mismatch, down):
        assert "Traceback" not in result.stderr
