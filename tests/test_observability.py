"""What a render ships for operators: alerting rules, their unit tests and a scrape config that
promtool accepts, a Grafana dashboard whose PromQL is valid and reads only what the server exports,
the Operating page that explains them, and (slow tier) a real Prometheus scraping a running `dev`."""

from __future__ import annotations

import math
import re
import time
import urllib.request
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from tests.conftest import UV, free_port, render, require, run
from tests.dashboard_picture import MAIN_PANELS, draw
from tests.dev_server import ANDES, CAFE, running_dev
from tests.observability import (
    ALERT_TESTS,
    ALERTS,
    DASHBOARD,
    SCRAPE_CONFIG,
    Prometheus,
    alert_rules,
    concrete,
    dashboard,
    dashboard_panels,
    exported,
    label_names,
    mcp_call,
    metric_names,
    metrics_url,
    queries,
    running_prometheus,
)

# Contract §11 in the Prometheus names its exporter writes (OpenTelemetry name, unit suffix, _total).
HISTOGRAMS = {
    "mcp_server_operation_duration_seconds": {"mcp_method_name", "gen_ai_tool_name", "error_type"},
    "whatalo_introspection_duration_seconds": {"outcome"},
    "whatalo_token_exchange_duration_seconds": {"http_response_status_code"},
    "whatalo_api_request_duration_seconds": {"http_request_method", "http_route", "http_response_status_code"},
}
COUNTERS = {"whatalo_auth_decisions_total": {"outcome"}, "whatalo_cache_lookups_total": {"kind", "result"}}
CONTRACT = {
    **COUNTERS,
    **{f"{name}_{suffix}": labels for name, labels in HISTOGRAMS.items() for suffix in ("count", "sum")},
    **{f"{name}_bucket": labels | {"le"} for name, labels in HISTOGRAMS.items()},
}
TARGET_LABELS = {"job", "instance"}  # what Prometheus adds to every scraped series


def promtool(project: Path, *args: str) -> str:
    result = run([require("promtool")["promtool"], *args], cwd=project, timeout=120)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def project(copie_session: Any) -> Path:
    return render(copie_session)


def test_alert_rules_scrape_config_and_rule_tests_pass_promtool(project: Path) -> None:
    assert "SUCCESS: 6 rules found" in promtool(project, "check", "rules", str(ALERTS))
    promtool(project, "check", "config", str(SCRAPE_CONFIG))
    assert "SUCCESS" in promtool(project, "test", "rules", str(ALERT_TESTS))


def test_every_alert_is_unit_tested_firing_and_quiet(project: Path) -> None:
    """Each alert has a promtool test where it fires and one where it stays quiet, and the tests are the
    ones promtool runs (not a file nobody loads)."""
    tests = yaml.safe_load((project / ALERT_TESTS).read_text())
    assert tests["rule_files"] == [ALERTS.name]
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in tests["tests"]:
        for check in case["alert_rule_test"]:
            (fires if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules(project)}
    assert fires == names and quiet == names


def test_every_alert_has_for_severity_and_a_runbook_on_the_operating_page(project: Path) -> None:
    page = (project / "docs" / "operating.md").read_text()
    anchors = {github_anchor(heading) for heading in re.findall(r"^#{2,4} (.+)$", page, re.MULTILINE)}
    for rule in alert_rules(project):
        assert re.fullmatch(r"\d+m", rule["for"]), rule
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule
        assert {"summary", "description"} <= set(rule["annotations"]), rule
        runbook = re.search(r"Runbook: docs/operating\.md#([\w-]+)", rule["annotations"]["description"])
        assert runbook, f"{rule['alert']} names no runbook"
        assert runbook[1] in anchors, f"{rule['alert']}: no heading of docs/operating.md has the anchor #{runbook[1]}"


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and mkdocs' toc) give a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip()).lower()
    return re.sub(r"\s+", "-", re.sub(r"[^\w\s-]", "", text))


def test_dashboard_is_a_grafana_dashboard_over_a_chosen_prometheus(project: Path) -> None:
    board = dashboard(project)
    assert board["schemaVersion"] >= 39
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    panels = dashboard_panels(project)
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    titles = " / ".join(panel["title"] for panel in panels)
    for subject in ("MCP requests", "Authorization decisions", "Introspection", "Cache hit ratio", "Token exchange"):
        assert subject in titles
    assert "5xx" in titles and "Whatalo API" in titles


def test_every_query_is_valid_promql(project: Path, tmp_path: Path) -> None:
    """promtool parses every alert and dashboard expression: each one as a recording rule."""
    rules = [
        {"record": f"dashboard:query_{index}", "expr": concrete(query.expr)}
        for index, query in enumerate(queries(project))
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "queries", "rules": rules}]}))
    assert f"SUCCESS: {len(rules)} rules found" in promtool(project, "check", "rules", str(path))
    # The check can fail: a typo in one expression is refused.
    rules[0]["expr"] = rules[0]["expr"].replace("sum by (", "sum by ((", 1)
    path.write_text(yaml.safe_dump({"groups": [{"name": "queries", "rules": rules}]}))
    broken = run([require("promtool")["promtool"], "check", "rules", str(path)], cwd=project)
    assert broken.returncode != 0


def test_every_query_reads_contract_metrics_and_their_labels(project: Path) -> None:
    assert_reads_only(queries(project), CONTRACT)


def assert_reads_only(found: list[Any], families: dict[str, set[str]]) -> None:
    """Every query selects metrics of ``families`` only, and only labels those metrics have."""
    for query in found:
        names = metric_names(query.expr)
        assert names, f"{query.where} selects no metric: {query.expr}"
        unknown = names - set(families)
        assert not unknown, f"{query.where} reads metrics the server does not export: {sorted(unknown)}"
        known_labels = set().union(*(families[name] for name in names)) | TARGET_LABELS
        strange = label_names(query.expr) - known_labels
        assert not strange, f"{query.where} uses labels its metrics do not have: {sorted(strange)}"


def test_promql_parsing_of_the_tests_sees_names_and_labels() -> None:
    expr = 'sum by (kind) (rate(a_total{job=~"$job", result="hit"}[5m])) / on(kind) sum(rate(b{x!="by"}[1m])) > 0.5'
    assert metric_names(expr) == {"a_total", "b"}
    assert label_names(expr) == {"job", "result", "kind", "x"}
    assert metric_names("histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > 1 and up") == {"h_bucket", "up"}


def test_the_generated_ci_runs_the_three_promtool_checks(copie: Any) -> None:
    for cache in ("memory", "redis"):
        workflow = yaml.safe_load((render(copie, cache=cache) / ".github" / "workflows" / "ci.yml").read_text())
        runs = [step.get("run", "") for step in workflow["jobs"]["test"]["steps"]]
        assert any("apt-get install" in line and "prometheus" in line for line in runs), runs
        for command in (
            f"promtool check rules {ALERTS}",
            f"promtool check config {SCRAPE_CONFIG}",
            f"promtool test rules {ALERT_TESTS}",
        ):
            assert any(command in line for line in runs), f"{command} missing from ci.yml"


def test_operating_page_documents_metrics_alerts_dashboard_and_picture(project: Path) -> None:
    page = (project / "docs" / "operating.md").read_text()
    for name in [*HISTOGRAMS, *COUNTERS]:
        assert f"`{name}" in page, f"{name} missing from the metric table"
    for rule in alert_rules(project):
        assert re.search(rf"^#{{2,4}} `?{rule['alert']}`?$", page, re.MULTILINE), rule["alert"]
    assert str(DASHBOARD) in page
    for section in ("Traces", "Logs", "Probe"):
        assert re.search(rf"^## {section}$", page, re.MULTILINE), section
    picture = re.search(r"!\[[^\]]+\]\((dashboard\.svg)\)", page)
    assert picture, "the page shows no picture of the dashboard"
    svg = ElementTree.parse(project / "docs" / picture[1]).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join(element.text or "" for element in svg.iter("{http://www.w3.org/2000/svg}text"))
    for title in MAIN_PANELS:
        assert title in texts, f"the picture lacks the panel {title!r}"
    assert "docs/operating.md" in (project / "README.md").read_text()


# -- slow tier: a real Prometheus scraping a running `dev` -----------------------------------------------

CACHE_HIT_RATIO = (
    'sum(whatalo_cache_lookups_total{kind="introspection", result="hit"})'
    ' / sum(whatalo_cache_lookups_total{kind="introspection"})'
)


def read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def counter(families_page: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` with ``labels`` on a /metrics page."""
    total = 0.0
    for line in families_page.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{key}="{value}"' in match[1] for key, value in labels.items()):
            total += float(match[2])
    return total


def wait_until_equal(prometheus: Prometheus, expr: str, expected: float, timeout: float = 20) -> None:
    """Wait (bounded) until the single value of ``expr`` is ``expected``."""
    deadline = time.monotonic() + timeout
    while True:
        result = prometheus.query(expr)
        if len(result) == 1 and math.isclose(float(result[0]["value"][1]), expected):
            return
        assert time.monotonic() < deadline, f"{expr} is {result} in Prometheus, not {expected}"
        time.sleep(0.25)


@pytest.mark.slow
@pytest.mark.parametrize("framework", ["mcp", "fastmcp"])
def test_prometheus_scrapes_dev_and_reads_the_cache_hit_ratio(copie: Any, framework: str) -> None:
    project = render(copie, project_name="Inspector Check", framework=framework)  # its command: inspector-check
    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    started = time.monotonic()
    with running_dev(project, "--metrics-port", str(free_port())) as dev:
        url = metrics_url(dev.output())
        target = url.removeprefix("http://").removesuffix("/metrics")
        with running_prometheus(target, project / ALERTS) as prometheus:
            assert prometheus.wait_for('up{job="dev"} == 1'), "Prometheus does not scrape dev's /metrics"
            began = time.time()
            cafe, andes = dev.tokens[CAFE], dev.tokens[ANDES]
            get_store = {"name": "get_store", "arguments": {}}
            # One introspection cache lookup per request with a token: a token's first request misses,
            # the others hit. First a miss and a hit (so both series exist), scraped; then the rest.
            first = [(cafe, "tools/list", {}), (cafe, "tools/call", get_store)]
            assert [mcp_call(dev.mcp_url, *call) for call in first] == [200, 200]
            wait_until_equal(prometheus, CACHE_HIT_RATIO, 1 / 2)
            calls = [(cafe, "tools/call", get_store)] * 2
            calls += [(cafe, "tools/call", {"name": "get_store", "arguments": {"bogus": 1}})]  # a tool error
            calls += [(andes, "tools/call", get_store)]
            calls += [("not-a-valid-token", "tools/list", {}), (None, "tools/list", {})]  # refused: 401
            assert [mcp_call(dev.mcp_url, *call) for call in calls] == [200] * 4 + [401] * 2
            last_call = time.time()

            page = read(url)
            # The dashboard and the alerts read only what this server really exports, labels included.
            assert_reads_only(queries(project), exported(page))
            hits = counter(page, "whatalo_cache_lookups_total", kind="introspection", result="hit")
            misses = counter(page, "whatalo_cache_lookups_total", kind="introspection", result="miss")
            assert (hits, misses) == (4, 3), page  # misses: cafe's first request, andes', the unknown token

            # The cache hit ratio through Prometheus's HTTP API, once it has scraped the calls' counts.
            wait_until_equal(prometheus, CACHE_HIT_RATIO, 4 / 7)
            # The dashboard's own panel over the last minute (3 hits and 2 misses since the first scrape).
            panel = next(panel for panel in dashboard_panels(project) if panel["title"] == "Cache hit ratio by kind")
            by_kind = {
                series["metric"]["kind"]: float(series["value"][1])
                for series in prometheus.query(concrete(panel["targets"][0]["expr"]))
            }
            assert 0.5 < by_kind["introspection"] < 0.7, by_kind

            # The alerting rules are loaded, evaluate without error, and none fires on a healthy run.
            deadline = time.monotonic() + 20
            while True:
                groups = prometheus.get("/api/v1/rules")["groups"]
                rules = [rule for group in groups for rule in group["rules"]]
                if rules and all(rule["health"] == "ok" for rule in rules):
                    break
                assert time.monotonic() < deadline, rules
                time.sleep(0.5)
            assert {rule["name"] for rule in rules} == {rule["alert"] for rule in alert_rules(project)}
            assert all(rule["state"] == "inactive" for rule in rules), rules
            assert prometheus.get("/api/v1/alerts")["alerts"] == []

            # The dashboard picture draws from these series (the committed one came from a longer run).
            time.sleep(max(0.0, last_call + 3 - time.time()))  # three scrapes after the last call
            svg = draw(prometheus, project, began, time.time(), step=0.5)
            root = ElementTree.fromstring(svg)
            texts = " ".join(element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text"))
            assert all(title in texts for title in MAIN_PANELS)
            marks = [element.tag.split("}")[1] for element in root.iter()]
            assert "polyline" in marks or "circle" in marks, "no series drawn"
    assert time.monotonic() - started < 60
