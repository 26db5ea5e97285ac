"""Configuration from the environment (and a ``.env`` file), checked once at start-up.

Every problem becomes one :class:`ConfigError` line that names the variable and
says what to fix; no traceback, and a secret's value is never echoed.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .cache_backend import CacheSettings
from .urls import require_url

MAX_CACHE_TTL = 60  # Whatalo: cache active introspection results for at most 60 s


class ConfigError(Exception):
    """Settings are missing or invalid. The message is one line, safe to print; ``problems`` has one per setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Settings(CacheSettings, BaseSettings):
    """The server's settings, the cache backend's included. Names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    whatalo_issuer: str = "https://app.whatalo.com"
    whatalo_api_url: str = "https://api.whatalo.com"
    whatalo_client_id: str = Field(min_length=1)
    whatalo_client_secret: SecretStr
    whatalo_client_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    mcp_resource_url: str = "http://localhost:8000"
    mcp_host: str = "127.0.0.1"
    mcp_port: int = Field(default=8000, ge=1, le=65535)
    mcp_allowed_origins: str = ""
    introspection_cache_ttl: int = Field(default=MAX_CACHE_TTL, ge=0)
    introspection_timeout: float = Field(default=3.0, gt=0, le=30)
    introspection_rate_limit: float = Field(default=100.0, ge=0)
    introspection_client_rate_limit: float | None = Field(default=None, ge=0)
    forwarded_allow_ips: str = "127.0.0.1,::1"
    shutdown_drain_seconds: float = Field(default=5.0, ge=0, le=300)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("whatalo_issuer", "whatalo_api_url", "mcp_resource_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return require_url(value)

    @field_validator("whatalo_client_secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @field_validator("introspection_cache_ttl")
    @classmethod
    def _ttl(cls, value: int) -> int:
        if value > MAX_CACHE_TTL:
            raise ValueError(f"must be at most {MAX_CACHE_TTL} seconds (Whatalo's rule for active tokens), got {value}")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        """uvicorn's ``forwarded_allow_ips``, checked (uvicorn takes a typo for a name that never matches)."""
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if entries == ["*"]:
            return "*"
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"must list the proxies trusted to set X-Forwarded-For: IP addresses or networks "
                    f"(10.0.0.0/8), comma-separated, or *; {entry!r} is neither"
                ) from None
        return ",".join(entries)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def client_rate_limit(self) -> float:
        """Introspections of unknown tokens one client may start per second (unset: a tenth of the global limit)."""
        if self.introspection_client_rate_limit is not None:
            return self.introspection_client_rate_limit
        return self.introspection_rate_limit / 10

    @property
    def allowed_origins(self) -> frozenset[str]:
        """Browser origins allowed to call /mcp besides loopback and the resource's own origin."""
        return frozenset(o.strip().rstrip("/") for o in self.mcp_allowed_origins.split(",") if o.strip())


def load_settings(**overrides: object) -> Settings:
    """Read and check the settings, or raise :class:`ConfigError` with one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(problems(exc)) from None
    except UnicodeDecodeError:
        raise ConfigError([".env is not UTF-8 text: save it as UTF-8"]) from None


def problems(exc: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable; never the input value of a secret."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        if error["type"] == "missing":
            lines.append(f"{name} is required: set it in the environment or in .env")
            continue
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{name} {message}" if message.startswith("must") else f"{name}: {message}")
    return lines
