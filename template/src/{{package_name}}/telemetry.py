"""OpenTelemetry traces and metrics of the auth path, configured from the standard ``OTEL_*`` variables.

Off unless configured: with no OTLP endpoint and no ``METRICS_PORT``, no SDK provider is installed
and every function here returns at its first line. Spans and metrics go out over OTLP/HTTP when an
endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or the per-signal ones); ``METRICS_PORT`` adds a
Prometheus reader whose registry ``metrics_server.py`` serves.

The framework's server span of each MCP request is the root of its trace. Introspection runs in
the gate, before that span exists: ``introspected`` keeps its timing for the request, and the
framework adapter's middleware (inside the framework's span) emits it as a child with its real
start and end times. Token exchange and the Whatalo API calls run inside the tool, so their spans
are children by themselves. No attribute here holds a token, a digest, a secret or a tool argument;
metric attributes hold no store id either.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from . import PROJECT_SLUG, __version__

# Seconds, from a warm cache hit's few milliseconds to the 10 s an upstream call may take.
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
OUTCOMES = {"allowed", "unauthorized", "invalid_request", "invalid_token", "insufficient_scope", "unavailable"}


@dataclass
class _Instruments:
    operation: metrics.Histogram
    decisions: metrics.Counter
    introspection: metrics.Histogram
    lookups: metrics.Counter
    exchange: metrics.Histogram
    api: metrics.Histogram

    @classmethod
    def create(cls, meter: metrics.Meter) -> _Instruments:
        def histogram(name: str, description: str) -> metrics.Histogram:
            return meter.create_histogram(
                name, unit="s", description=description, explicit_bucket_boundaries_advisory=SECONDS
            )

        return cls(
            operation=histogram("mcp.server.operation.duration", "Duration of an MCP request or notification"),
            decisions=meter.create_counter("whatalo.auth.decisions", description="The gate's decisions, by outcome"),
            introspection=histogram("whatalo.introspection.duration", "Duration of an RFC 7662 introspection call"),
            lookups=meter.create_counter(
                "whatalo.cache.lookups", description="Cache lookups of introspection results and exchanged tokens"
            ),
            exchange=histogram("whatalo.token_exchange.duration", "Duration of an RFC 8693 token exchange call"),
            api=histogram("whatalo.api.request.duration", "Duration of a request to Whatalo's REST API"),
        )


# What is installed: None means off, and every function below returns at once.
_tracer: trace.Tracer | None = None
_instruments: _Instruments | None = None
_propagator = TraceContextTextMapPropagator()  # traceparent and tracestate only: never the client's baggage


def install(tracer_provider: trace.TracerProvider | None, meter_provider: metrics.MeterProvider | None) -> None:
    """Switch the instrumentation on with these providers (also made the global ones, for the frameworks)."""
    global _tracer, _instruments
    if tracer_provider is not None:
        trace.set_tracer_provider(tracer_provider)
        _tracer = tracer_provider.get_tracer(__package__ or PROJECT_SLUG, __version__)
    if meter_provider is not None:
        metrics.set_meter_provider(meter_provider)
        _instruments = _Instruments.create(meter_provider.get_meter(__package__ or PROJECT_SLUG, __version__))


def uninstall() -> None:
    global _tracer, _instruments
    _tracer = _instruments = None


def enabled() -> bool:
    return _tracer is not None or _instruments is not None


# -- metrics ------------------------------------------------------------------------------------

_DECISIONS = {outcome: {"outcome": outcome} for outcome in OUTCOMES}
_LOOKUPS = {
    (kind, hit): {"kind": kind, "result": "hit" if hit else "miss"}
    for kind in ("introspection", "token_exchange")
    for hit in (True, False)
}


def decision(outcome: str) -> None:
    """One decision of the gate, by outcome (``OUTCOMES``)."""
    if _instruments is not None:
        _instruments.decisions.add(1, _DECISIONS[outcome])


def cache_lookup(kind: str, *, hit: bool) -> None:
    """One cache lookup of ``kind`` (introspection, token_exchange)."""
    if _instruments is not None:
        _instruments.lookups.add(1, _LOOKUPS[kind, hit])


def introspection_call(seconds: float, outcome: str) -> None:
    """One introspection call at Whatalo, by ``outcome``: active, inactive, error."""
    if _instruments is not None:
        _instruments.introspection.record(seconds, {"outcome": outcome})


def _status(attributes: dict[str, Any], status: int | None) -> dict[str, Any]:
    if status is None:
        attributes["error.type"] = "no_response"  # unreachable, timed out: no status code to name
    else:
        attributes["http.response.status_code"] = status
    return attributes


# -- spans --------------------------------------------------------------------------------------


class Upstream:
    """One HTTP call to Whatalo being measured: set ``status`` once the answer came."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        self.status: int | None = None


@contextmanager
def upstream(
    name: str, metric: str, attributes: dict[str, Any], span_attributes: Mapping[str, Any] | None = None
) -> Iterator[Upstream]:
    """A CLIENT span (current inside the block, so ``inject`` names it) and the ``metric`` histogram
    (``exchange`` or ``api``) of one call to Whatalo, both with the answer's status code."""
    call = Upstream()
    if _instruments is None and _tracer is None:
        yield call
        return
    started = time.perf_counter()
    with span(name, {**attributes, **(span_attributes or {})}, kind=SpanKind.CLIENT) as current:
        try:
            yield call
        finally:
            status = _status({}, call.status)
            if current is not None:
                current.set_attributes(status)
                if call.status is None or call.status >= 500:
                    current.set_status(StatusCode.ERROR)
            if _instruments is not None:
                histogram = _instruments.exchange if metric == "exchange" else _instruments.api
                histogram.record(time.perf_counter() - started, {**attributes, **status})


def inject(headers: MutableMapping[str, str]) -> None:
    """Add ``traceparent`` (W3C Trace Context) of the current span to an outgoing request's headers."""
    if _tracer is not None:
        _propagator.inject(headers)


@contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None, kind: SpanKind = SpanKind.INTERNAL) -> Iterator[Any]:
    """A child span of the current one, or nothing (``None``) when tracing is off."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(name, kind=kind, attributes=attributes, record_exception=False) as current:
        yield current


@dataclass(frozen=True)
class _Introspection:
    started: int  # ns since the epoch, as spans count time
    ended: int
    outcome: str
    waited: bool  # a single-flight follower: it waited for another request's introspection
    attributes: dict[str, Any]


_introspection: ContextVar[_Introspection | None] = ContextVar("introspection", default=None)


def introspected(started: int, outcome: str, *, waited: bool, store_id: str | None, token_fp: str) -> None:
    """Keep this request's introspection (a cache miss) for its span under the framework's span.

    ``started``: ``time.time_ns()`` when the miss began.
    """
    if _tracer is None:
        return
    attributes: dict[str, Any] = {"whatalo.introspection.outcome": outcome, "whatalo.token.fingerprint": token_fp}
    if store_id:
        attributes["whatalo.store.id"] = store_id
    if waited:
        attributes["whatalo.single_flight.waited"] = True
    _introspection.set(_Introspection(started, time.time_ns(), outcome, waited, attributes))


def _emit_introspection() -> None:
    """The current request's introspection as a child span of the current (the framework's) span."""
    kept = _introspection.get()
    if kept is None or _tracer is None:
        return
    _introspection.set(None)
    name = "whatalo.introspection.wait" if kept.waited else "whatalo.introspection"
    child = _tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=kept.attributes, start_time=kept.started)
    if kept.outcome == "error":
        child.set_status(StatusCode.ERROR)
    child.end(end_time=kept.ended)


class Operation:
    """One MCP request or notification as the framework adapter sees it; ``error`` sets ``error.type``."""

    __slots__ = ("error", "method", "tool")

    def __init__(self, method: str, tool: str | None) -> None:
        self.method = method
        self.tool = tool
        self.error: str | None = None


@contextmanager
def operation(method: str, tool: str | None = None) -> Iterator[Operation]:
    """Around one MCP message, inside the framework's server span: ``mcp.server.operation.duration``,
    and the request's introspection span (if it missed the cache) as a child of the framework's span."""
    current = Operation(method, tool)
    if _instruments is None and _tracer is None:
        yield current
        return
    _emit_introspection()
    started = time.perf_counter()
    try:
        yield current
    except BaseException as exc:
        if current.error is None:
            current.error = type(exc).__qualname__
        raise
    finally:
        if _instruments is not None:
            attributes = {"mcp.method.name": method}
            if tool is not None:
                attributes["gen_ai.tool.name"] = tool
            if current.error is not None:
                attributes["error.type"] = current.error
            _instruments.operation.record(time.perf_counter() - started, attributes)
