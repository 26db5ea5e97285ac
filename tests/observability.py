"""What the observability tests and the dashboard picture share: the PromQL of a render's shipped
alerting rules and Grafana dashboard, the metric families of a real ``/metrics`` page, MCP calls as
a client makes them, and a real Prometheus server (the Debian package) scraping a running ``dev``."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ENV, free_port, require
from tests.dev_server import stop, wait_until_ready

ALERTS = Path("deploy/prometheus/alerts.yml")
ALERT_TESTS = Path("deploy/prometheus/alerts.test.yml")
SCRAPE_CONFIG = Path("deploy/prometheus/prometheus.yml")
DASHBOARD = Path("deploy/grafana/dashboard.json")

# -- PromQL ----------------------------------------------------------------------------------------

# Words of PromQL that look like metric names: aggregation modifiers, set operators, keywords.
KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool", "inf"}
)


def concrete(expr: str, window: str = "1m") -> str:
    """``expr`` with the dashboard's variables replaced as Grafana would (any job, ``window`` for rates)."""
    variables = {"${__rate_interval}": window, "$__rate_interval": window, "${job}": ".+", "$job": ".+"}
    for variable, value in variables.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a Grafana variable the tests do not know in {expr}"
    return expr


def _without_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects: identifiers that are not functions, labels or keywords."""
    text = _without_strings(expr)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range and subquery windows
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        if match[2] is None and match[1].lower() not in KEYWORDS:
            names.add(match[1])
    return names


def label_names(expr: str) -> set[str]:
    """The label names ``expr`` matches on or groups by."""
    text = _without_strings(expr)
    labels = set()
    for matchers in re.findall(r"\{([^}]*)\}", text):
        labels |= set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", matchers))
    for grouping in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", text):
        labels |= {name.strip() for name in grouping.split(",") if name.strip()}
    return labels


@dataclass(frozen=True)
class Query:
    where: str  # "alert WhataloUnreachable", "panel 'Cache hit ratio by kind' A"
    expr: str  # as written (dashboard variables included)


def alert_rules(project: Path) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for group in yaml.safe_load((project / ALERTS).read_text())["groups"]:
        rules += group["rules"]
    return rules


def dashboard(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((project / DASHBOARD).read_text())
    return loaded


def dashboard_panels(project: Path) -> list[dict[str, Any]]:
    """Every panel that draws something (rows left out, the panels of collapsed rows included)."""
    found: list[dict[str, Any]] = []
    for panel in dashboard(project)["panels"]:
        if panel["type"] == "row":
            found += panel.get("panels", [])
        else:
            found.append(panel)
    return found


OPERATING_PAGE = Path("docs/operating.md")


def page_queries(project: Path) -> list[Query]:
    """The PromQL of the Operating page's table of questions (``| question | query |``)."""
    page = (project / OPERATING_PAGE).read_text()
    table = page[page.index("| question | query |") :].split("\n\n")[0]
    found = []
    for row in table.splitlines()[2:]:
        question, cell = row.strip("|").split(" | ", 1)
        found += [Query(f"docs question {question.strip()!r}", expr) for expr in re.findall(r"`([^`]+)`", cell)]
    assert found, f"no queries in the table of questions of {OPERATING_PAGE}"
    return found


def queries(project: Path) -> list[Query]:
    """The PromQL of every alert, every dashboard target and every query on the Operating page."""
    found = [Query(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules(project)]
    for panel in dashboard_panels(project):
        found += [Query(f"panel {panel['title']!r} {target['refId']}", target["expr"]) for target in panel["targets"]]
    return found + page_queries(project)


def exported(page: str) -> dict[str, set[str]]:
    """Metric family name -> its label names, from a Prometheus text exposition (``/metrics``)."""
    families: dict[str, set[str]] = {}
    for line in page.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([A-Za-z_:][\w:]*)(\{(.*)\})?\s", line)
        assert match, f"not a sample line of the Prometheus text format: {line!r}"
        labels = set(re.findall(r'([A-Za-z_]\w*)="', match[3] or ""))
        families.setdefault(match[1], set()).update(labels)
    return families


def metrics_url(output: str) -> str:
    """The ``/metrics`` URL that ``dev`` printed."""
    found = re.search(r"(http://[\w.:\[\]-]+/metrics)\b", output)
    assert found, f"dev printed no /metrics URL:\n{output}"
    return found[1]


# -- MCP calls -------------------------------------------------------------------------------------

MODERN = "2026-07-28"
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}


def mcp_call(mcp_url: str, token: str | None, method: str, params: dict[str, Any] | None = None) -> int:
    """One stateless (2026-07-28) MCP request as a client sends it (no credentials when ``token`` is
    None); its HTTP status."""
    params = {**(params or {}), "_meta": ENVELOPE}
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if method == "tools/call":
        headers["Mcp-Name"] = params["name"]
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(mcp_url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.read()
        return int(error.code)


# -- a real Prometheus -----------------------------------------------------------------------------


@dataclass
class Prometheus:
    url: str

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=10) as response:
            answer = json.loads(response.read())
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector of ``expr`` now (``/api/v1/query``)."""
        data = self.get("/api/v1/query", query=expr)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query_range", query=expr, start=str(start), end=str(end), step=str(step))
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_for(self, expr: str, timeout: float = 30) -> list[dict[str, Any]]:
        """The result of ``expr`` once it is not empty (bounded)."""
        deadline = time.monotonic() + timeout
        while not (result := self.query(expr)):
            assert time.monotonic() < deadline, f"{expr} stayed empty for {timeout} s"
            time.sleep(0.5)
        return result


@contextmanager
def running_prometheus(target: str, rules: Path, job: str = "dev") -> Iterator[Prometheus]:
    """A Prometheus server on 127.0.0.1 (free port, throwaway storage) scraping ``target`` (host:port)
    every second and evaluating ``rules`` every second; stopped by its PID afterwards."""
    binary = require("prometheus")["prometheus"]
    with tempfile.TemporaryDirectory(prefix="prometheus-") as directory:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": [str(rules.resolve())],
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}],
        }
        config_file = Path(directory) / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        port = free_port()
        log_path = Path(directory) / "prometheus.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={Path(directory) / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                cwd=directory,
                env=ENV,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                prometheus = Prometheus(f"http://127.0.0.1:{port}")
                wait_until_ready(f"{prometheus.url}/-/ready", process, log_path.read_text)
                yield prometheus
            finally:
                stop(process, signal.SIGTERM)
