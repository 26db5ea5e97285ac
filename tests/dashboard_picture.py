"""The picture of the Grafana dashboard on a generated project's Operating page (docs/dashboard.svg),
drawn from a real run: the dashboard's own PromQL, evaluated by a real Prometheus that scraped a
running ``dev`` under a mix of MCP calls, drawn as plain SVG (no browser, no Grafana).

Maintainers redraw it with ``uv run python -m tests.dashboard_picture template/docs/dashboard.svg``
(about two minutes); users of the template never need it. ``draw`` is also run by the slow test.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from tests.conftest import ENV, ROOT, UV, free_port, run
from tests.dev_server import ANDES, CAFE, running_dev, sign_in
from tests.observability import (
    ALERTS,
    Prometheus,
    concrete,
    dashboard_panels,
    mcp_call,
    metrics_url,
    running_prometheus,
)

# The panels drawn, in reading order (two per row).
MAIN_PANELS = (
    "MCP requests by method and tool",
    "Authorization decisions by outcome",
    "Cache hit ratio by kind",
    "Introspection latency p50 / p99 by outcome",
    "Token exchange latency p50 / p99",
    "Whatalo API latency p50 / p99 by route",
)
PALETTE = ("#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff", "#fade2a", "#96d98d")
BACKGROUND, PANEL, GRID, TEXT, MUTED = "#111217", "#181b1f", "#2c3235", "#ccccdc", "#8e8e8e"
WIDTH, PANEL_W, PANEL_H, GAP, TOP = 1200, 588, 270, 8, 48
PLOT_LEFT, PLOT_TOP, PLOT_RIGHT, PLOT_BOTTOM = 64, 40, 20, 70  # the plot area inside a panel


def legend(template: str, labels: dict[str, str]) -> str:
    """A Grafana legend format (``{{label}}`` placeholders) filled with a series' labels."""
    text = template
    for name, value in labels.items():
        text = text.replace("{{" + name + "}}", value)
    while "{{" in text:  # a label the series does not have
        start = text.index("{{")
        text = text[:start] + text[text.index("}}", start) + 2 :]
    return " ".join(text.split()) or "value"


def unit_text(value: float, unit: str) -> str:
    if unit == "percentunit":
        return f"{value * 100:.0f}%"
    if unit == "s":
        return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.3g} s"
    if unit == "reqps":
        return f"{value:.3g}/s"
    return f"{value:g}"


def series_of(prometheus: Prometheus, panel: dict[str, Any], start: float, end: float, step: float, window: str):
    """(legend, [(time, value or None)]) of every series of the panel's targets over [start, end]."""
    found = []
    for target in panel["targets"]:
        for result in prometheus.query_range(concrete(target["expr"], window), start, end, step):
            points = []
            for stamp, text in result["values"]:
                value = float(text)
                points.append((float(stamp), None if math.isnan(value) or math.isinf(value) else value))
            if any(value is not None for _, value in points):
                found.append((legend(target.get("legendFormat", ""), result["metric"]), points))
    return sorted(found, key=lambda item: item[0])


def nice_max(value: float, unit: str) -> float:
    if unit == "percentunit":
        return 1.0
    if value <= 0:
        return 1.0
    headroom = value * 1.05
    magnitude = 10 ** math.floor(math.log10(headroom))
    return next(step * magnitude for step in (1, 2, 4, 6, 8, 10) if step * magnitude >= headroom)


def draw_panel(x: float, y: float, title: str, unit: str, series, start: float, end: float) -> list[str]:
    parts = [
        f'<rect x="{x}" y="{y}" width="{PANEL_W}" height="{PANEL_H}" rx="3" fill="{PANEL}" stroke="{GRID}"/>',
        f'<text x="{x + 12}" y="{y + 22}" font-size="14" font-weight="600" fill="{TEXT}">{escape(title)}</text>',
    ]
    left, top = x + PLOT_LEFT, y + PLOT_TOP
    width, height = PANEL_W - PLOT_LEFT - PLOT_RIGHT, PANEL_H - PLOT_TOP - PLOT_BOTTOM
    values = [value for _, points in series for _, value in points if value is not None]
    top_value = nice_max(max(values, default=0.0), unit)
    for index in range(5):
        level = top_value * index / 4
        line_y = top + height - height * index / 4
        parts.append(f'<line x1="{left}" y1="{line_y:.1f}" x2="{left + width}" y2="{line_y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{line_y + 4:.1f}" font-size="11" fill="{MUTED}" text-anchor="end">'
            f"{escape(unit_text(level, unit))}</text>"
        )
    span = max(end - start, 1.0)
    for index in range(5):
        stamp = start + span * index / 4
        label = datetime.fromtimestamp(stamp, UTC).strftime("%H:%M:%S")
        parts.append(
            f'<text x="{left + width * index / 4:.1f}" y="{top + height + 16}" font-size="11" fill="{MUTED}" '
            f'text-anchor="middle">{label}</text>'
        )
    if not series:
        parts.append(
            f'<text x="{left + width / 2}" y="{top + height / 2}" font-size="13" fill="{MUTED}" '
            'text-anchor="middle">No data</text>'
        )
    for (name, points), color in zip(series, itertools.cycle(PALETTE)):
        segment: list[str] = []
        segments = [segment]
        for stamp, value in points:
            if value is None:
                segment = []
                segments.append(segment)
                continue
            px = left + width * (stamp - start) / span
            py = top + height - height * min(value, top_value) / top_value
            segment.append(f"{px:.1f},{py:.1f}")
        for points_text in segments:
            if len(points_text) == 1:
                cx, cy = points_text[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{color}"/>')
            elif points_text:
                parts.append(
                    f'<polyline points="{" ".join(points_text)}" fill="none" stroke="{color}" stroke-width="1.6"/>'
                )
    # The legend: up to three lines of entries under the plot.
    legend_x, legend_y = x + 12, top + height + 36
    for (name, _), color in zip(series, itertools.cycle(PALETTE)):
        entry = 24 + 6.6 * len(name)
        if legend_x + entry > x + PANEL_W - 8:
            legend_x, legend_y = x + 12, legend_y + 16
        if legend_y > y + PANEL_H - 6:
            break
        parts.append(f'<rect x="{legend_x}" y="{legend_y - 4}" width="14" height="3" fill="{color}"/>')
        parts.append(f'<text x="{legend_x + 19}" y="{legend_y}" font-size="11" fill="{TEXT}">{escape(name)}</text>')
        legend_x += entry
    return parts


def draw(prometheus: Prometheus, project: Path, start: float, end: float, step: float, window: str = "15s") -> str:
    """The SVG of the dashboard's main panels over [start, end], from ``prometheus``."""
    panels = {panel["title"]: panel for panel in dashboard_panels(project)}
    rows = math.ceil(len(MAIN_PANELS) / 2)
    height = TOP + rows * (PANEL_H + GAP) + 4
    moment = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="Inter, Helvetica, Arial, sans-serif">'
        ),
        f'<rect width="{WIDTH}" height="{height}" fill="{BACKGROUND}"/>',
        f'<text x="{GAP}" y="30" font-size="18" font-weight="600" fill="{TEXT}">Whatalo MCP server</text>',
        (
            f'<text x="{WIDTH - GAP}" y="30" font-size="12" fill="{MUTED}" text-anchor="end">'
            f"deploy/grafana/dashboard.json, job = dev, rate window {window}, {moment}</text>"
        ),
    ]
    for index, title in enumerate(MAIN_PANELS):
        panel = panels[title]
        x = GAP + (index % 2) * (PANEL_W + GAP)
        y = TOP + (index // 2) * (PANEL_H + GAP)
        series = series_of(prometheus, panel, start, end, step, window)
        parts += draw_panel(x, y, title, panel["fieldConfig"]["defaults"]["unit"], series, start, end)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def traffic(mcp_url: str, tokens: dict[str, str], seconds: float) -> None:
    """A mix of what clients do, for ``seconds``: warm tool calls, new sign-ins (introspection and
    token exchange misses), a token short of a scope (403), no token and a bad token (401)."""
    rng = random.Random(13)
    deadline = time.monotonic() + seconds
    warm = [tokens[CAFE], tokens[ANDES]]
    narrow = sign_in(mcp_url, CAFE, ["read:store"])
    signed_in = time.monotonic()
    while time.monotonic() < deadline:
        if time.monotonic() - signed_in > 5:  # a new client every 5 s
            warm.append(sign_in(mcp_url, rng.choice([CAFE, ANDES]), ["read:store", "read:products"]))
            signed_in = time.monotonic()
        token = rng.choice(warm)
        roll = rng.random()
        if roll < 0.45:
            mcp_call(mcp_url, token, "tools/call", {"name": "get_store", "arguments": {}})
        elif roll < 0.75:
            mcp_call(mcp_url, token, "tools/call", {"name": "list_products", "arguments": {}})
        elif roll < 0.88:
            mcp_call(mcp_url, token, "tools/list")
        elif roll < 0.93:
            mcp_call(mcp_url, narrow, "tools/call", {"name": "list_products", "arguments": {}})
        elif roll < 0.97:
            mcp_call(mcp_url, f"unknown-{rng.randrange(10**6)}", "tools/list")
        else:
            mcp_call(mcp_url, None, "tools/list")
        time.sleep(rng.uniform(0.02, 0.12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="where to write the SVG (template/docs/dashboard.svg)")
    parser.add_argument("--seconds", type=float, default=120, help="how long the traffic runs")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dashboard-picture-") as directory:
        project = Path(directory) / "project"
        command = [UV, "run", "copier", "copy", "--quiet", "--defaults", "-d", "project_name=Inspector Check"]
        rendered = run([*command, str(ROOT), str(project)], cwd=ROOT)
        assert rendered.returncode == 0, rendered.stderr
        synced = subprocess.run([UV, "sync", "--quiet"], cwd=project, env=ENV, check=False)
        assert synced.returncode == 0
        options = ["--metrics-port", str(free_port()), "--registrations-per-hour", "1000"]
        with running_dev(project, *options) as dev:
            target = metrics_url(dev.output()).removeprefix("http://").removesuffix("/metrics")
            with running_prometheus(target, project / ALERTS) as prometheus:
                prometheus.wait_for('up{job="dev"} == 1')
                start = time.time()
                traffic(dev.mcp_url, dev.tokens, arguments.seconds)
                time.sleep(3)  # the last scrapes
                svg = draw(prometheus, project, start, time.time(), step=2, window="30s")
    arguments.output.write_text(svg)
    print(f"wrote {arguments.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
