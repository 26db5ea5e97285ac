"""The OpenTelemetry SDK in memory for the whole run: every span and metric the servers under test emit."""

from __future__ import annotations

from typing import Any

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest

from tests.project import telemetry


class TelemetryCapture:
    """Installed once per run (OpenTelemetry's global providers can be set once per process)."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(id_generator=telemetry.RequestIds())
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.registry = CollectorRegistry()
        self.meter_provider = MeterProvider(
            metric_readers=[self.reader, PrometheusMetricReader(registry=self.registry)]
        )
        telemetry.install(self.tracer_provider, self.meter_provider)

    def shutdown(self) -> None:
        telemetry.uninstall()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """``(attributes, data point)`` of every stream of metric ``name`` (cumulative since the start)."""
        found = []
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        found += [(dict(point.attributes or {}), point) for point in metric.data.data_points]
        return found

    def page(self) -> str:
        """What the Prometheus endpoint (METRICS_PORT) would serve now."""
        return generate_latest(self.registry).decode()

    def texts(self) -> list[str]:
        """Everything the run exported: each span (name, attributes, events, status) and the metrics page."""
        texts = [self.page()]
        for span in self.spans():
            texts.append(f"{span.name} {dict(span.attributes or {})} {span.status.description or ''}")
            texts += [f"{event.name} {dict(event.attributes or {})}" for event in span.events]
        for attributes, _ in (p for name in telemetry.METRICS for p in self.points(name)):
            texts.append(str(attributes))
        return texts
