"""Settings from the environment (pydantic-settings). Built by bootstrap, never at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Repository root when running from a checkout (backend/app/core/settings.py -> repo).
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SQLITE_PATH = Path("var") / "dawsos.sqlite3"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"


class Settings(BaseSettings):
    """Runtime configuration. ``DATABASE_URL`` picks the database (default: embedded SQLite file)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+psycopg://user@host/db",
    )
    seeds_dir: Path = Field(default=REPO_ROOT / "data" / "SEEDS" / "optimizer", alias="DAWSOS_SEEDS_DIR")
    log_level: str = Field(default="WARNING", alias="DAWSOS_LOG_LEVEL")
    log_json: bool | None = Field(default=None, alias="DAWSOS_LOG_JSON")
    sql_echo: bool = Field(default=False, alias="DAWSOS_SQL_ECHO")
    log_file: Path = Field(default=Path("var") / "dawsos.log", alias="DAWSOS_LOG_FILE",
                           description="where the command line's logs go (JSON lines) unless --verbose")

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # accept the libpq spelling, run it through psycopg 3
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.split(":///", 1)[1]
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+psycopg://")):
            raise ValueError(
                "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+psycopg:// "
                f"(got {value.split('://', 1)[0]!r})"
            )
        return value

    @property
    def uses_default_database(self) -> bool:
        """True for the default SQLite file, the one database the app may create without `dawsos seed`."""
        return self.database_url == DEFAULT_DATABASE_URL

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """Filesystem path of the SQLite file, or None for PostgreSQL / in-memory."""
        if not self.is_sqlite:
            return None
        rest = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        if not rest or rest.startswith(":memory:"):
            return None
        return Path(rest.split("?", 1)[0])
