"""OpenTelemetry traces and metrics of the auth path, configured from the standard ``OTEL_*`` variables.

Off unless configured: with no OTLP endpoint and no ``METRICS_PORT``, no SDK provider is installed
and every function here returns at its first line. Spans and metrics go out over OTLP/HTTP when an
endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or the per-signal ones); ``METRICS_PORT`` adds a
Prometheus reader. ``telemetry_setup.py`` installs the SDK; this module is what the code calls.

The framework's server span of each MCP request is the root of its trace. Introspection runs in
the gate, before that span exists: the gate's cache miss reserves the ids of its span (the
introspection request carries them in ``traceparent``), ``introspected`` keeps its outcome and
times, and the framework adapter's middleware, inside the framework's span, emits it as a child
with its real start and end times. Token exchange and the Whatalo API calls run inside the tool,
so their spans are children by themselves. No attribute here holds a token, a digest, a secret or a tool argument;
metric attributes hold no store id either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from . import PROJECT_SLUG, __version__

METRICS = (
    "mcp.server.operation.duration",
    "whatalo.auth.decisions",
    "whatalo.introspection.duration",
    "whatalo.cache.lookups",
    "whatalo.token_exchange.duration",
    "whatalo.api.request.duration",
)
# Seconds, from a warm cache hit's few milliseconds to the 10 s an upstream call may take.
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
OUTCOMES = {"allowed", "unauthorized", "invalid_request", "invalid_token", "insufficient_scope", "unavailable"}


class Counts:
    """Cumulative counts per attribute set, reported when a reader collects (an asynchronous counter).

    Counting is a dictionary update under a lock, not a pass through the SDK's aggregation for
    every reader on every request; the readers see the same totals, when they ask for them.
    """

    def __init__(self, attributes: Mapping[Any, Mapping[str, str]]) -> None:
        self._attributes = attributes
        self._counts = dict.fromkeys(attributes, 0)
        self._lock = threading.Lock()

    def add(self, key: Any) -> None:
        with self._lock:
            self._counts[key] += 1

    def observe(self, options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        with self._lock:
            counts = list(self._counts.items())
        return [metrics.Observation(count, self._attributes[key]) for key, count in counts if count]


@dataclass
class _Instruments:
    operation: metrics.Histogram
    introspection: metrics.Histogram
    exchange: metrics.Histogram
    api: metrics.Histogram

    @classmethod
    def create(cls, meter: metrics.Meter) -> _Instruments:
        def histogram(name: str, description: str) -> metrics.Histogram:
            return meter.create_histogram(
                name, unit="s", description=description, explicit_bucket_boundaries_advisory=SECONDS
            )

        meter.create_observable_counter(
            "whatalo.auth.decisions", callbacks=[_decisions.observe], description="The gate's decisions, by outcome"
        )
        meter.create_observable_counter(
            "whatalo.cache.lookups",
            callbacks=[_lookups.observe],
            description="Cache lookups of introspection results and exchanged tokens",
        )
        return cls(
            operation=histogram("mcp.server.operation.duration", "Duration of an MCP request or notification"),
            introspection=histogram("whatalo.introspection.duration", "Duration of an RFC 7662 introspection call"),
            exchange=histogram("whatalo.token_exchange.duration", "Duration of an RFC 8693 token exchange call"),
            api=histogram("whatalo.api.request.duration", "Duration of a request to Whatalo's REST API"),
        )


_decisions = Counts({outcome: {"outcome": outcome} for outcome in OUTCOMES})
_lookups = Counts(
    {
        (kind, hit): {"kind": kind, "result": "hit" if hit else "miss"}
        for kind in ("introspection", "token_exchange")
        for hit in (True, False)
    }
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


def decision(outcome: str) -> None:
    """One decision of the gate, by outcome (``OUTCOMES``).

    A refusal after an introspection also emits that introspection's span, as a root of its own:
    no framework span follows a refused request.
    """
    if _instruments is not None:
        _decisions.add(outcome)
    if _tracer is not None and outcome != "allowed":
        _emit_introspection(Context())


def cache_lookup(kind: str, *, hit: bool) -> None:
    """One cache lookup of ``kind`` (introspection, token_exchange)."""
    if _instruments is not None:
        _lookups.add((kind, hit))


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
                if call.status is None or call.status >= 400:  # CLIENT spans: 4xx is an error too
                    current.set_status(StatusCode.ERROR)
            if _instruments is not None:
                histogram = _instruments.exchange if metric == "exchange" else _instruments.api
                histogram.record(time.perf_counter() - started, {**attributes, **status})


def inject(headers: MutableMapping[str, str]) -> None:
    """Add ``traceparent`` (W3C Trace Context) to an outgoing request's headers: the current span's,
    or, for the gate's introspection (before any span), the ids reserved for its span."""
    if _tracer is None:
        return
    if trace.get_current_span().get_span_context().is_valid:
        _propagator.inject(headers)
        return
    miss = _introspection.get()
    if miss is not None:
        headers["traceparent"] = f"00-{miss.trace_id:032x}-{miss.span_id:016x}-01"


@contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None, kind: SpanKind = SpanKind.INTERNAL) -> Iterator[Any]:
    """A child span of the current one, or nothing (``None``) when tracing is off."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(name, kind=kind, attributes=attributes, record_exception=False) as current:
        yield current


_ids = RandomIdGenerator()


@dataclass
class _Introspection:
    """A request's introspection, from the gate's cache miss until its span is emitted.

    Its ids are chosen when the miss begins, so the introspection request can carry a
    ``traceparent`` before the spans exist: ``RequestIds`` hands ``trace_id`` to the request's
    root span (the framework's, unless the client's ``_meta`` names a parent) and ``span_id`` to
    the introspection's span.
    """

    started: int  # ns since the epoch, as spans count time
    trace_id: int = field(default_factory=_ids.generate_trace_id)
    span_id: int = field(default_factory=_ids.generate_span_id)
    trace_id_taken: bool = False
    emitted: bool = False
    ended: int = 0
    outcome: str = "error"
    waited: bool = False  # a single-flight follower: it waited for another request's introspection
    attributes: dict[str, Any] = field(default_factory=dict)


_introspection: ContextVar[_Introspection | None] = ContextVar("introspection", default=None)
_next_span_id: ContextVar[int | None] = ContextVar("next_span_id", default=None)


class RequestIds(RandomIdGenerator):
    """Random ids, except the ones ``_Introspection`` reserved for the current request (see there)."""

    def generate_trace_id(self) -> int:
        miss = _introspection.get()
        if miss is not None and not miss.trace_id_taken:
            miss.trace_id_taken = True  # the request's first root span only
            return miss.trace_id
        return super().generate_trace_id()

    def generate_span_id(self) -> int:
        return _next_span_id.get() or super().generate_span_id()


def introspection_missed() -> int:
    """The gate's introspection cache lookup missed: ``time.time_ns()`` now, for ``introspected``."""
    started = time.time_ns()
    if _tracer is not None:
        _introspection.set(_Introspection(started))
    return started


def introspected(started: int, outcome: str, *, waited: bool, store_id: str | None, token_fp: str) -> None:
    """The request's introspection (since its cache miss) is over: its span is emitted under the framework's."""
    miss = _introspection.get()
    if miss is None or _tracer is None:
        return
    miss.ended, miss.outcome, miss.waited = time.time_ns(), outcome, waited
    miss.attributes = {"whatalo.introspection.outcome": outcome, "whatalo.token.fingerprint": token_fp}
    if store_id:
        miss.attributes["whatalo.store.id"] = store_id
    if waited:
        miss.attributes["whatalo.single_flight.waited"] = True


def _emit_introspection(parent: Context | None = None) -> None:
    """The current request's introspection as a child span of the current (the framework's) span."""
    miss = _introspection.get()
    if miss is None or not miss.ended or miss.emitted or _tracer is None:
        return
    miss.emitted = True
    name = "whatalo.introspection.wait" if miss.waited else "whatalo.introspection"
    reset = _next_span_id.set(miss.span_id)
    try:
        child = _tracer.start_span(
            name, parent, kind=SpanKind.INTERNAL, attributes=miss.attributes, start_time=miss.started
        )
    finally:
        _next_span_id.reset(reset)
    if miss.outcome == "error":
        child.set_status(StatusCode.ERROR)
    child.end(end_time=miss.ended)


OTHER = "_OTHER"  # a method or tool name outside the known ones: a client must not create metric series
MCP_METHODS = frozenset(
    {
        "initialize",
        "ping",
        "server/discover",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
    }
)


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
    and the request's introspection span (if it missed the cache) as a child of the framework's span.

    ``method`` outside MCP's methods is recorded as ``_OTHER`` (callers do the same for a tool name
    outside the tools table): a client must not create metric series at will.
    """
    current = Operation(method if method in MCP_METHODS else OTHER, tool)
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
            attributes = {"mcp.method.name": current.method}
            if tool is not None:
                attributes["gen_ai.tool.name"] = tool
            if current.error is not None:
                attributes["error.type"] = current.error
            _instruments.operation.record(time.perf_counter() - started, attributes)
