"""Schema migrations run from code: the package ships its Alembic scripts, no alembic.ini needed."""

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing into the installed package, bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the newest schema revision, or to `revision` (a no-op when it is
    already there)."""
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache
def head_revision() -> str | None:
    """The newest schema revision this version of the package knows (its scripts are package
    files: read once a process, where each reading imported every one of them, 20 ms)."""
    return ScriptDirectory.from_config(_config()).get_current_head()
