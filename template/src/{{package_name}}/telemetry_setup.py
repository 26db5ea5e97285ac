"""Installing the OpenTelemetry SDK as the standard ``OTEL_*`` variables and ``METRICS_PORT`` ask.

Nothing is installed when they ask for nothing: no OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT``
or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``..._METRICS_ENDPOINT``) and no ``METRICS_PORT``.
The exporters read the rest of their variables themselves (headers, timeout, compression,
certificates); ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` override the project's
service name and version. OTLP goes over HTTP (``http/protobuf``) only.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from dotenv import dotenv_values
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import PROJECT_SLUG, __version__
from .serving import BackgroundServer
from .telemetry import RequestIds, install, uninstall

PROTOCOL = "http/protobuf"
FLUSH_SECONDS = 5  # at most this long on shutdown for the last spans and metrics to go out
SAFE_EVENT_ATTRIBUTES = frozenset({"exception.type", "exception.escaped"})


class TelemetryError(Exception):
    """The OTEL_* variables ask for something this server cannot do. One line, safe to print."""


@dataclass
class Telemetry:
    """The providers ``configure`` installed, and the Prometheus registry when ``METRICS_PORT`` asks for one."""

    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    registry: CollectorRegistry | None = None
    metrics_server: BackgroundServer | None = None
    stopped: bool = False

    def serve_metrics(self, sock: socket.socket) -> None:
        """Serve ``GET /metrics`` on ``sock`` (bound to ``MCP_HOST:METRICS_PORT``), in a thread of its own."""
        if self.registry is not None:
            self.metrics_server = BackgroundServer(metrics_app(self.registry), sock=sock).start()

    def shutdown(self) -> None:
        """Stop the metrics endpoint, flush what is pending (spans, the last metrics), switch it all off.

        Bounded: a collector that accepts and never answers would hold each exporter for its own
        timeout in turn; after ``FLUSH_SECONDS`` the process goes on without what is left (the
        providers are built without the SDK's own exit hook, which would wait for them again).
        """
        if self.stopped:
            return
        self.stopped = True
        uninstall()
        if self.metrics_server is not None:
            self.metrics_server.stop()
        flushing = threading.Thread(target=self._flush, name="telemetry-flush", daemon=True)
        flushing.start()
        flushing.join(FLUSH_SECONDS)

    def _flush(self) -> None:
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


class Scrubbed(SpanExporter):
    """Exports spans without the free text of errors: a status description, an exception event's
    message and stack trace may quote a tool's arguments (FastMCP records pydantic's messages, with
    their ``input_value``). The exception's type and the span's status code stay."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([_scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def _scrubbed(span: ReadableSpan) -> ReadableSpan:
    if not span.events and span.status.description is None:
        return span
    events = [
        Event(e.name, {k: v for k, v in (e.attributes or {}).items() if k in SAFE_EVENT_ATTRIBUTES}, e.timestamp)
        for e in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def sdk_disabled() -> bool:
    """``OTEL_SDK_DISABLED=true``, in the environment or ``.env``."""
    _from_dotenv()
    return _variable("OTEL_SDK_DISABLED").lower() == "true"


def _from_dotenv(path: str = ".env") -> None:
    """The ``OTEL_*`` variables of ``.env``, as for every other setting; the process environment wins.

    Put where the SDK reads them (the process environment), since its exporters and sampler read
    their own variables there.
    """
    for name, value in dotenv_values(path).items():
        if name.startswith("OTEL_") and value is not None:
            os.environ.setdefault(name, value)


def _variable(name: str) -> str:
    return os.environ.get(name, "").strip()


def _endpoint(signal: str) -> str | None:
    """The OTLP endpoint of ``signal`` (traces, metrics), or None when that signal is not exported."""
    exporter = _variable(f"OTEL_{signal.upper()}_EXPORTER").lower() or "otlp"
    if exporter == "none":
        return None
    if exporter != "otlp":
        raise TelemetryError(f"OTEL_{signal.upper()}_EXPORTER={exporter} is not supported: use otlp or none")
    for name in ("OTEL_EXPORTER_OTLP_PROTOCOL", f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL"):
        protocol = _variable(name)
        if protocol and protocol != PROTOCOL:
            raise TelemetryError(
                f"{name}={protocol} is not supported: this server exports OTLP over HTTP ({PROTOCOL}); "
                "point the endpoint at the collector's OTLP/HTTP port (4318) and unset it or set http/protobuf"
            )
    for name in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        endpoint = _variable(name)
        if endpoint:
            if not endpoint.startswith(("http://", "https://")):
                raise TelemetryError(f"{name} must be an http:// or https:// URL (OTLP/HTTP), got {endpoint!r}")
            return endpoint
    return None


def configure(metrics_port: int | None = None) -> Telemetry | None:
    """Install the SDK as the OTEL_* variables (of the process environment, where the SDK reads them) and
    ``METRICS_PORT`` ask, or nothing when they ask for nothing.

    Raises :class:`TelemetryError` for a setting this server cannot honour.
    """
    if sdk_disabled():
        if metrics_port is not None:
            raise TelemetryError(
                "METRICS_PORT needs the OpenTelemetry SDK, which OTEL_SDK_DISABLED=true switches off: unset one"
            )
        return None
    traces_endpoint = _endpoint("traces")
    metrics_endpoint = _endpoint("metrics")
    if traces_endpoint is None and metrics_endpoint is None and metrics_port is None:
        return None
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the project's own defaults.
    defaults = Resource.create({SERVICE_NAME: PROJECT_SLUG, SERVICE_VERSION: __version__})
    resource = defaults.merge(OTELResourceDetector().detect())
    telemetry = Telemetry()
    if traces_endpoint is not None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        telemetry.tracer_provider = TracerProvider(resource=resource, id_generator=RequestIds(), shutdown_on_exit=False)
        telemetry.tracer_provider.add_span_processor(BatchSpanProcessor(Scrubbed(OTLPSpanExporter())))
    readers: list[MetricReader] = []
    if metrics_endpoint is not None:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    if metrics_port is not None:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        telemetry.registry = CollectorRegistry()
        ProcessCollector(registry=telemetry.registry)
        readers.append(PrometheusMetricReader(registry=telemetry.registry))
    if readers:
        telemetry.meter_provider = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
    install(telemetry.tracer_provider, telemetry.meter_provider)
    return telemetry


def metrics_app(registry: CollectorRegistry) -> Starlette:
    """``GET /metrics`` in the Prometheus text format, for the server on ``METRICS_PORT``; 404 elsewhere."""

    def page(request: Request) -> Response:  # sync: Starlette runs it in a thread, off the event loop
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/metrics", page, methods=["GET"])])
