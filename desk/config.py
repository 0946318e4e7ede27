"""Settings, built once from an environment mapping and passed down (DESIGN.md, Configuration).

Secrets are `SecretStr`: they never appear in `repr`, logs or `desk` output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
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

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, **_other_sources
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what `from_environ` passes in: no hidden reads of os.environ or .env files.
        return (init_settings,)

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
