"""One typed settings object for the whole product.

Every setting can be given as an environment variable with the ``WHOLEPLACE_`` prefix
(for example ``WHOLEPLACE_DATA_DIR``) or in a ``.env`` file in the working directory.
Settings enter at the edge (CLI, app factory) and are passed in; nothing below reads the
environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the stores live and how the product runs."""

    model_config = SettingsConfigDict(env_prefix="WHOLEPLACE_", env_file=".env", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("wholeplace-data"),
        description="Folder holding the analytic store (Parquet) and, by default, the operational store (SQLite).",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the operational store, e.g. "
        "postgresql+psycopg://user@host/db. Default: SQLite in the data folder.",
    )
    partnership_key_file: Path | None = Field(
        default=None,
        description="File holding the partnership's pseudonymisation key (kept outside the "
        "stores). Loads whose data hold direct identifiers stop when it is not set.",
    )
    host: str = Field(default="127.0.0.1", description="Address the web app listens on.")
    port: int = Field(default=8000, description="Port the web app listens on.")
    duckdb_memory_limit: str = Field(default="4GB", description="Memory DuckDB may use for one connection.")
    max_quarantine_share: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="A file whose share of quarantined rows exceeds this is refused whole "
        "(most rows failing usually means a wrong mapping, not bad rows).",
    )

    oidc_providers: Path | None = Field(
        default=None,
        description="YAML or JSON file listing the OpenID Connect identity providers people may sign in with, "
        "and how their claims map to partner and role. Default: local accounts only.",
    )
    session_secure_cookie: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure (sent over https only). Default: when the request came over https.",
    )
    lockout_attempts: int = Field(default=5, ge=1, description="Wrong passwords in a row that lock an account.")
    lockout_minutes: int = Field(default=15, ge=1, description="How long a locked account stays locked.")
    session_idle_minutes: int = Field(default=30, ge=1, description="A session unused for this long ends.")
    session_absolute_hours: int = Field(default=12, ge=1, description="A session ends this long after sign-in.")

    smtp_host: str | None = Field(default=None, description="SMTP server that sends notification emails. "
                                  "Default: none, so notifications are shown in the app only.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_from: str = Field(default="wholeplace@localhost", description="Sender address of notification emails.")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS before sending.")
    smtp_username: str | None = Field(default=None, description="User name for SMTP authentication, if it needs one.")
    smtp_password_file: Path | None = Field(
        default=None, description="File holding the SMTP password (read when an email is sent, never logged).")
    public_url: str | None = Field(
        default=None, description="Address people reach the web app at, for links in emails. "
        "Default: http://host:port.")
    referral_retention_months: int = Field(
        default=24, ge=1, description="Referrals closed more than this many months ago are erased by "
        "`wholeplace retention run`.")

    @property
    def analytic_dir(self) -> Path:
        return self.data_dir / "analytic"

    @property
    def link_base(self) -> str:
        """Where links in emails point (no trailing slash)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def operational_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'operational.sqlite').resolve()}"
