"""Settings, built once from an environment mapping and passed down (DESIGN.md, Configuration).

Secrets are `SecretStr`: they never appear in `repr`, logs or `desk` output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from desk.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    database_url: str = Field("sqlite:///desk.db", alias="DESK_DATABASE_URL", min_length=1, repr=False)
    playbooks_dir: Path = Field(Path("playbooks"), alias="DESK_PLAYBOOKS_DIR")
    slack_api_url: str = Field("https://slack.com/api/", alias="DESK_SLACK_API_URL")
    port: int = Field(3000, alias="PORT", ge=1, le=65535)
    # Signed report links: where people reach the web process, and (optionally) the key they are signed with
    public_url: str = Field("http://localhost:3000", alias="DESK_PUBLIC_URL",
                            pattern=r"^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?$")
    link_secret: SecretStr | None = Field(None, alias="DESK_LINK_SECRET")
    # Operations: log lines (JSON off a terminal unless told), and where `desk worker` serves /metrics
    log_format: Literal["json", "text"] | None = Field(None, alias="DESK_LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="DESK_LOG_LEVEL")
    metrics_port: int | None = Field(None, alias="DESK_METRICS_PORT", ge=1, le=65535)
    # `desk serve --http`: /healthz and /metrics on this internal port instead of PORT (None: on PORT)
    ops_port: int | None = Field(None, alias="DESK_OPS_PORT", ge=1, le=65535)
    # How long a client has to send a whole request (headers and body) before it is answered 408
    request_timeout_seconds: float = Field(10.0, alias="DESK_REQUEST_TIMEOUT_SECONDS", gt=0, le=120)
    # How long a dispatcher holds a claimed notification: after a crash, others wait this long to post it
    outbox_lease_seconds: int = Field(60, alias="DESK_OUTBOX_LEASE_SECONDS", ge=1, le=3600)
    # How long a Slack request stored before its ack is left to the process that acked it: after a crash,
    # the worker works it again this long after it arrived
    inbox_lease_seconds: int = Field(60, alias="DESK_INBOX_LEASE_SECONDS", ge=1, le=3600)

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object, info) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, **_other_sources
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what `from_environ` passes in: no hidden reads of os.environ or .env files.
        return (init_settings,)

    @property
    def secret_values(self) -> list[str]:
        """Every secret in the settings, in clear: what the log redactor must never let through."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        secrets = [s.get_secret_value() for s in (self.slack_bot_token, self.slack_signing_secret,
                                                  self.slack_app_token, self.link_secret) if s is not None]
        try:
            password = make_url(self.database_url).password
        except ArgumentError:  # a URL SQLAlchemy cannot parse fails later, with its own message
            password = None
        return secrets + ([str(password)] if password else [])

    @property
    def database_url_safe(self) -> str:
        """The database URL with any password hidden, for printing."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        names = {field.alias for field in cls.model_fields.values() if field.alias}
        values = {name: environ[name] for name in names if environ.get(name, "") != ""}
        try:
            return cls(**values)
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            raise ConfigError(f"invalid configuration: {problems}") from None
