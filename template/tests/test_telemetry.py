"""Traces and metrics of the auth path (contract §11), read from the OpenTelemetry SDK in memory
(``tests.otel``), over real HTTP; the Prometheus endpoint and OTLP export of a real process; JSON logs."""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx2 as httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.helpers import (
    ERAS,
    MCP_HEADERS,
    RS_CLIENT_ID,
    STORE_A,
    TOOLS_LIST,
    McpClient,
    RunningSandbox,
    first,
    free_port,
    run_cli,
)
from tests.otel import TelemetryCapture
from tests.project import (
    CACHE_SETTINGS,
    COMMAND,
    PACKAGE,
    BackgroundServer,
    JSONFormatter,
    StoreContextFilter,
    listening_socket,
    telemetry,
    telemetry_setup,
)
from tests.test_cli import Running

ARGUMENT = "canary-argument-7f3a"  # a tool argument: never in a span or a metric

# What each metric's attributes may be (contract §11; error.type when no HTTP answer came).
METRIC_ATTRIBUTES = {
    "mcp.server.operation.duration": {"mcp.method.name", "gen_ai.tool.name", "error.type"},
    "whatalo.auth.decisions": {"outcome"},
    "whatalo.introspection.duration": {"outcome"},
    "whatalo.cache.lookups": {"kind", "result"},
    "whatalo.token_exchange.duration": {"http.response.status_code", "error.type"},
    "whatalo.api.request.duration": {"http.request.method", "http.route", "http.response.status_code", "error.type"},
}


def wait_for(spans: Callable[[], list[ReadableSpan]], done: Callable[[list[ReadableSpan]], bool]) -> list[ReadableSpan]:
    """The spans once ``done`` holds (a server span ends as its response goes out), within 5 s."""
    deadline = time.monotonic() + 5
    while not done(found := spans()):
        assert time.monotonic() < deadline, [span.name for span in found]
        time.sleep(0.02)
    return found


def server_spans(spans: Iterable[ReadableSpan], method: str = "tools/call") -> list[ReadableSpan]:
    return [s for s in spans if s.kind is SpanKind.SERVER and (s.attributes or {}).get("mcp.method.name") == method]


def children(spans: Iterable[ReadableSpan], parent: ReadableSpan) -> dict[str, ReadableSpan]:
    return {s.name: s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id}


def traceparent(span: ReadableSpan) -> str:
    """The version, trace id and parent id a request sent inside ``span`` carries (flags aside)."""
    return f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}"


def count(capture: TelemetryCapture, name: str, **attributes: Any) -> float:
    """A counter's value, or a histogram's count, summed over the streams with these attributes."""
    total = 0.0
    for found, point in capture.points(name):
        if all(found.get(key) == value for key, value in attributes.items()):
            total += point.count if hasattr(point, "count") else point.value
    return total


@pytest.fixture
def spans_of_this_test(telemetry_capture: TelemetryCapture) -> Callable[[], list[ReadableSpan]]:
    start = len(telemetry_capture.spans())
    return lambda: telemetry_capture.spans()[start:]


@pytest.mark.parametrize("era", ERAS)
def test_a_tool_call_is_one_trace_under_the_framework_span(era, probe_client, probe_token, sandbox, spans_of_this_test):
    client, token = probe_client(era), probe_token()
    product = first(sandbox.stores[STORE_A].products)
    assert not client.call(token, "probe_rename", {"product_id": product, "name": ARGUMENT}).is_error
    spans = wait_for(spans_of_this_test, lambda found: len(server_spans(found)) == 1)
    server = server_spans(spans)[0]
    assert server.parent is None  # the framework's span is the root
    assert not server_spans(spans, "tools/list")  # the framework ran no listing of its own inside the call
    assert (server.attributes or {}).get("gen_ai.tool.name") == "probe_rename"
    below = children(spans, server)
    introspection, exchange = below["whatalo.introspection"], below["whatalo.token_exchange"]
    api = below["PATCH /v1/products/{id}"]
    assert {s.context.trace_id for s in (introspection, exchange, api)} == {server.context.trace_id}
    # The introspection ran in the gate before the framework's span began: it keeps its real times.
    assert introspection.start_time is not None and server.start_time is not None
    assert introspection.start_time < server.start_time
    assert introspection.attributes == {
        "whatalo.introspection.outcome": "active",
        "whatalo.token.fingerprint": hashlib.sha256(token.encode()).hexdigest()[:8],
        "whatalo.store.id": STORE_A,
    }
    assert api.kind is SpanKind.CLIENT and exchange.kind is SpanKind.CLIENT
    assert {key: (api.attributes or {})[key] for key in ("http.request.method", "url.template")} == {
        "http.request.method": "PATCH",
        "url.template": "/v1/products/{id}",
    }
    assert (api.attributes or {})["http.response.status_code"] == 200
    assert (exchange.attributes or {})["http.response.status_code"] == 200
    # Whatalo received the trace context of each call: introspection, exchange, the API request.
    received = {path: value.rsplit("-", 1)[0] for path, value in sandbox.traceparents}
    assert received["/oauth/introspect"] == traceparent(introspection)
    assert received["/oauth/token"] == traceparent(exchange)
    assert received[f"/v1/products/{product}"] == traceparent(api)


def test_warm_requests_have_no_introspection_or_exchange_span_and_count_as_hits(
    probe_client, probe_token, telemetry_capture, spans_of_this_test
):
    client, token = probe_client(), probe_token()
    before = {
        (kind, result): count(telemetry_capture, "whatalo.cache.lookups", kind=kind, result=result)
        for kind in ("introspection", "token_exchange")
        for result in ("hit", "miss")
    }
    for _ in range(2):
        assert not client.call(token, "probe_store").is_error
    spans = wait_for(spans_of_this_test, lambda found: len(server_spans(found)) == 2)
    cold, warm = sorted(server_spans(spans), key=lambda s: s.start_time or 0)
    assert {"whatalo.introspection", "whatalo.token_exchange", "GET /v1/store"} <= set(children(spans, cold))
    assert set(children(spans, warm)) == {"GET /v1/store"}
    for key, added in {
        ("introspection", "miss"): 1,
        ("introspection", "hit"): 1,
        ("token_exchange", "miss"): 1,
        ("token_exchange", "hit"): 1,
    }.items():
        kind, result = key
        assert count(telemetry_capture, "whatalo.cache.lookups", kind=kind, result=result) == before[key] + added


def test_a_single_flight_follower_shows_its_wait(probe_server, probe_token, sandbox, spans_of_this_test):
    token = probe_token()
    sandbox.introspection_delay = 0.5
    clients = [McpClient(probe_server.url), McpClient(probe_server.url)]
    statuses: list[int] = []

    def post(client: McpClient, delay: float) -> None:
        time.sleep(delay)
        statuses.append(client.post(TOOLS_LIST, token).status_code)

    threads = [threading.Thread(target=post, args=(c, 0.15 * i)) for i, c in enumerate(clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        for client in clients:
            client.close()
    assert statuses == [200, 200] and sandbox.counters.introspections == 1
    spans = wait_for(spans_of_this_test, lambda found: len(server_spans(found, "tools/list")) == 2)
    below = [children(spans, server) for server in server_spans(spans, "tools/list")]
    names = sorted(name for found in below for name in found)
    assert names == ["whatalo.introspection", "whatalo.introspection.wait"]
    wait = next(found["whatalo.introspection.wait"] for found in below if "whatalo.introspection.wait" in found)
    assert (wait.attributes or {})["whatalo.single_flight.waited"] is True
    assert wait.end_time is not None and wait.start_time is not None
    assert wait.end_time - wait.start_time > 0.2e9  # it waited for the leader's slow introspection


def test_auth_decisions_are_counted_by_outcome(probe_client, probe_token, sandbox, telemetry_capture):
    client = probe_client()
    outcomes = ("allowed", "unauthorized", "invalid_request", "invalid_token", "insufficient_scope", "unavailable")
    before = {outcome: count(telemetry_capture, "whatalo.auth.decisions", outcome=outcome) for outcome in outcomes}
    revoked = probe_token()
    sandbox.revoke(revoked)
    assert client.post(TOOLS_LIST, probe_token()).status_code == 200
    assert client.post(TOOLS_LIST).status_code == 401
    twice = [*MCP_HEADERS.items(), ("Authorization", "Bearer a"), ("Authorization", "Bearer b")]
    assert client.http.post(client.url, content=json.dumps(TOOLS_LIST), headers=twice).status_code == 400
    assert client.post(TOOLS_LIST, revoked).status_code == 401
    narrow = probe_token(["read:store"])
    call = client.message("tools/call", {"name": "probe_rename", "arguments": {"product_id": "p", "name": "n"}})
    assert client.post(call, narrow).status_code == 403
    sandbox.introspection_fault = (500, "{}")
    assert client.post(TOOLS_LIST, probe_token()).status_code == 503
    for outcome in outcomes:
        assert count(telemetry_capture, "whatalo.auth.decisions", outcome=outcome) == before[outcome] + 1, outcome


def test_a_refused_token_has_its_introspection_as_a_root_span(probe_client, probe_token, sandbox, spans_of_this_test):
    revoked = probe_token()
    sandbox.revoke(revoked)
    assert probe_client().post(TOOLS_LIST, revoked).status_code == 401
    spans = wait_for(spans_of_this_test, lambda found: any(s.name == "whatalo.introspection" for s in found))
    introspection = next(s for s in spans if s.name == "whatalo.introspection")
    assert introspection.parent is None and not server_spans(spans, "tools/list")
    assert (introspection.attributes or {})["whatalo.introspection.outcome"] == "inactive"
    assert dict(sandbox.traceparents)["/oauth/introspect"].rsplit("-", 1)[0] == traceparent(introspection)


def test_metrics_have_the_contract_names_and_attributes(probe_client, probe_token, sandbox, telemetry_capture):
    client, token = probe_client(), probe_token()
    listed = {"mcp.method.name": "tools/call", "gen_ai.tool.name": "probe_products", "error.type": "tool_error"}
    route = {"http.request.method": "GET", "http.route": "/v1/products", "http.response.status_code": 500}
    failures = count(telemetry_capture, "mcp.server.operation.duration", **listed)
    api_500 = count(telemetry_capture, "whatalo.api.request.duration", **route)
    assert not client.call(token, "probe_products").is_error
    sandbox.fail_next_api_call(500, "INTERNAL", "boom")
    assert client.call(token, "probe_products").is_error
    for name, allowed in METRIC_ATTRIBUTES.items():
        points = telemetry_capture.points(name)
        assert points, f"no {name}"
        for attributes, _ in points:
            assert set(attributes) <= allowed, (name, attributes)
    assert count(telemetry_capture, "mcp.server.operation.duration", **listed) == failures + 1
    assert count(telemetry_capture, "whatalo.api.request.duration", **route) == api_500 + 1
    # In Prometheus form (opentelemetry-exporter-prometheus), as dashboards and alerts name them.
    page = telemetry_capture.page()
    for family in (
        "mcp_server_operation_duration_seconds_bucket",
        "whatalo_auth_decisions_total",
        "whatalo_introspection_duration_seconds_count",
        "whatalo_cache_lookups_total",
        "whatalo_token_exchange_duration_seconds_sum",
        "whatalo_api_request_duration_seconds_bucket",
    ):
        assert f"\n{family}{{" in page, family
    assert 'http_route="/v1/products"' in page and 'le="0.005"' in page and 'le="10.0"' in page


def test_names_a_client_makes_up_are_one_bounded_series(probe_client, probe_token, sandbox, telemetry_capture):
    """A tool or method name outside the project's is recorded as ``_OTHER``: no series at will."""
    client, token = probe_client(), probe_token()
    other_tool = {"mcp.method.name": "tools/call", "gen_ai.tool.name": "_OTHER", "error.type": "tool_error"}
    before = count(telemetry_capture, "mcp.server.operation.duration", **other_tool)
    for made_up in ("no_such_tool_1", "no_such_tool_2", "no_such_tool_3"):
        assert client.call(token, made_up).is_error  # the same tool error with either framework
        assert "error" in client.post(client.message(f"made/up/{made_up}"), token).json()  # method not found
    assert count(telemetry_capture, "mcp.server.operation.duration", **other_tool) == before + 3
    recorded = {
        attributes.get("gen_ai.tool.name")
        for attributes, _ in telemetry_capture.points("mcp.server.operation.duration")
    }
    methods = {
        attributes["mcp.method.name"] for attributes, _ in telemetry_capture.points("mcp.server.operation.duration")
    }
    assert not {name for name in recorded if name and name.startswith("no_such_tool")}
    assert not {name for name in methods if name.startswith("made/up")} and "_OTHER" in methods
    assert "no_such_tool" not in telemetry_capture.page() and "made/up" not in telemetry_capture.page()


def test_no_token_digest_secret_store_or_argument_in_span_or_metric_attributes(
    probe_client, probe_token, sandbox, sandbox_server, telemetry_capture, spans_of_this_test
):
    token = probe_token()
    product = first(sandbox.stores[STORE_A].products)
    assert not probe_client().call(token, "probe_rename", {"product_id": product, "name": ARGUMENT}).is_error
    spans = wait_for(spans_of_this_test, lambda found: len(server_spans(found)) == 1)
    digest = hashlib.sha256(token.encode()).hexdigest()
    forbidden = [token, digest, sandbox_server.client_secret, ARGUMENT, *sandbox.api_bearer_tokens]
    for span in spans:
        texts = [str(dict(span.attributes or {})), span.status.description or ""]
        texts += [str(dict(event.attributes or {})) for event in span.events]
        for value in forbidden:
            assert all(value not in text for text in texts), span.name
    # A refused argument: the frameworks' error messages quote it; what is exported does not.
    refused = 987654321
    assert probe_client().call(token, "probe_products", {"per_page": refused}).is_error
    spans = wait_for(spans_of_this_test, lambda found: len(server_spans(found)) == 2)
    texts = [f"{s.status.description} {[dict(e.attributes or {}) for e in s.events]}" for s in spans]
    assert all(str(refused) not in text for text in texts)
    metric_text = str([attributes for name in telemetry.METRICS for attributes, _ in telemetry_capture.points(name)])
    principal = sandbox.introspect(token)
    for value in [*forbidden, STORE_A, principal["sub"]]:
        assert value not in metric_text


def test_json_logs_carry_the_store_fingerprint_and_trace_ids(telemetry_capture):
    formatter, context = JSONFormatter(), StoreContextFilter()

    def line(message: str) -> dict[str, Any]:
        record = logging.LogRecord(f"{PACKAGE}.auth", logging.WARNING, __file__, 1, message, None, None)
        context.filter(record)
        formatted = formatter.format(record)
        assert "\n" not in formatted
        parsed: dict[str, Any] = json.loads(formatted)
        return parsed

    outside = line("no span here")
    assert outside["trace_id"] is None and outside["span_id"] is None and outside["store"] is None
    assert {"time", "level", "logger", "message", "store", "token_fp"} <= set(outside)
    with telemetry_capture.tracer_provider.get_tracer("test").start_as_current_span("x") as span:
        inside = line('a "quoted" message')
    assert inside["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert inside["span_id"] == f"{span.get_span_context().span_id:016x}"
    assert inside["level"] == "WARNING" and inside["logger"] == f"{PACKAGE}.auth"
    assert inside["message"] == 'a "quoted" message'


def test_with_no_otel_variables_nothing_is_installed():
    code = (
        f"from opentelemetry import metrics, trace\nfrom {PACKAGE} import telemetry, telemetry_setup\n"
        "assert telemetry_setup.configure(None) is None and not telemetry.enabled()\n"
        "import os\nos.environ.update(OTEL_SDK_DISABLED='true', OTEL_EXPORTER_OTLP_ENDPOINT='http://127.0.0.1:1')\n"
        "assert telemetry_setup.configure(None) is None and not telemetry.enabled()\n"
        "print(type(trace.get_tracer_provider()).__name__, type(metrics.get_meter_provider()).__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ProxyTracerProvider", "_ProxyMeterProvider"]


def test_the_service_is_named_after_the_project_unless_otel_says_otherwise():
    code = (
        f"from {PACKAGE} import telemetry_setup\n"
        "installed = telemetry_setup.configure(None)\n"
        "assert installed is not None and installed.meter_provider is None\n"
        "print(dict(installed.tracer_provider.resource.attributes))\n"
        "installed.shutdown()"
    )
    traces_only = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces",
        "OTEL_METRICS_EXPORTER": "none",
    }
    named = {"OTEL_SERVICE_NAME": "shop-mcp", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=ci"}
    for extra, name in (({}, COMMAND), (named, "shop-mcp")):
        env = {**traces_only, **extra}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 0, result.stderr
        assert f"'service.name': '{name}'" in result.stdout, result.stdout
    assert "'deployment.environment': 'ci'" in result.stdout


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported"),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT must be an http://"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "OTEL_TRACES_EXPORTER=console is not supported"),
        ({"OTEL_SDK_DISABLED": "true", "METRICS_PORT": "9464"}, "METRICS_PORT needs the OpenTelemetry SDK"),
    ],
)
def test_otel_settings_it_cannot_honour_are_one_line(environ, says, monkeypatch):
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", **environ}
    metrics_port = int(environ.pop("METRICS_PORT")) if "METRICS_PORT" in environ else None
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(telemetry_setup.TelemetryError) as raised:
        telemetry_setup.configure(metrics_port)
    assert says in str(raised.value) and "\n" not in str(raised.value)


class Collector:
    """A throwaway OTLP/HTTP receiver: what was POSTed to /v1/traces and /v1/metrics."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []

        async def receive(request: Request) -> Response:
            self.received.append((request.url.path, await request.body()))
            return Response(b"", media_type="application/x-protobuf")

        app = Starlette(routes=[Route(path, receive, methods=["POST"]) for path in ("/v1/traces", "/v1/metrics")])
        self.server = BackgroundServer(app)

    def bodies(self, path: str) -> bytes:
        return b"".join(body for received, body in self.received if received == path)


def server_environment(sandbox_server: RunningSandbox, port: int, **extra: str) -> dict[str, str]:
    return {
        "WHATALO_ISSUER": sandbox_server.url,
        "WHATALO_API_URL": sandbox_server.url,
        "WHATALO_CLIENT_ID": RS_CLIENT_ID,
        "WHATALO_CLIENT_SECRET": sandbox_server.client_secret,
        "MCP_RESOURCE_URL": f"http://127.0.0.1:{port}",
        "MCP_PORT": str(port),
        **{name.upper(): str(value) for name, value in CACHE_SETTINGS.items()},
        **extra,
    }


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.1)


def test_serve_exposes_prometheus_on_metrics_port_only_exports_otlp_and_logs_json(sandbox_server, mint, secrets_seen):
    port, metrics_port = free_port(), free_port()
    collector = Collector()
    with collector.server:
        env = server_environment(
            sandbox_server,
            port,
            METRICS_PORT=str(metrics_port),
            LOG_FORMAT="json",
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.server.url,
            OTEL_SERVICE_NAME="canary-service",
        )
        running = Running("serve", env=env)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            token = mint(audience=f"http://127.0.0.1:{port}")
            headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
            listed = httpx.post(f"http://127.0.0.1:{port}/mcp", json=TOOLS_LIST, headers=headers, timeout=10)
            assert listed.status_code == 200
            page = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
            assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 404
            running.process.terminate()  # SIGTERM, as an orchestrator stops it: the telemetry is flushed first
            running.process.wait(timeout=20)
        finally:
            code, _, stderr = running.stop()
        assert code in (0, -signal.SIGTERM), stderr
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    decisions = [line for line in page.text.splitlines() if line.startswith("whatalo_auth_decisions_total{")]
    assert any('outcome="allowed"' in line for line in decisions), page.text
    assert "\nmcp_server_operation_duration_seconds_count{" in page.text and token not in page.text
    # OTLP/HTTP: the spans and the last metrics were flushed on the way out, named by OTEL_SERVICE_NAME.
    traces, metrics = collector.bodies("/v1/traces"), collector.bodies("/v1/metrics")
    assert b"canary-service" in traces and b"whatalo.introspection" in traces
    assert b"whatalo.auth.decisions" in metrics
    assert token.encode() not in traces + metrics and sandbox_server.client_secret.encode() not in traces + metrics
    # LOG_FORMAT=json: every line of the server's log is one JSON object.
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    allowed = [line for line in lines if "POST /mcp allowed" in line["message"]]
    assert allowed and allowed[0]["store"] == STORE_A and allowed[0]["token_fp"] == token_fp(token)


def token_fp(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:8]


def test_dev_serves_metrics_next_to_the_mcp_port_and_prints_where():
    port, sandbox_port, metrics_port = free_port(), free_port(), free_port()
    env = {name.upper(): str(value) for name, value in CACHE_SETTINGS.items()}
    args = ("dev", "--port", str(port), "--sandbox-port", str(sandbox_port), "--metrics-port", str(metrics_port))
    running = Running(*args, env=env)
    try:
        printed = running.wait_for("Ctrl-C stops both")
        assert f"http://127.0.0.1:{metrics_port}/metrics" in printed
        token = printed.split(f"({STORE_A}):\n", 1)[1].split()[0]
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
        assert httpx.post(f"http://127.0.0.1:{port}/mcp", json=TOOLS_LIST, headers=headers, timeout=10).is_success
        page = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    finally:
        code, _, stderr = running.stop()
    assert code in (0, 130), stderr
    assert 'outcome="allowed"' in page and 'kind="introspection"' in page and token not in page
    listening_socket("127.0.0.1", metrics_port).close()  # free again


def test_a_busy_metrics_port_is_one_line_naming_it(sandbox_server):
    busy = listening_socket()
    busy.listen()
    port = free_port()
    try:
        result = run_cli("serve", env=server_environment(sandbox_server, port, METRICS_PORT=str(busy.getsockname()[1])))
    finally:
        busy.close()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot listen on 127.0.0.1" in result.stderr and "METRICS_PORT" in result.stderr


def test_grpc_is_refused_at_start_in_one_line(sandbox_server):
    env = server_environment(
        sandbox_server,
        free_port(),
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4317",
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
    )
    result = run_cli("serve", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported" in result.stderr
