#!/usr/bin/env python
"""Create or upgrade the schema and load ``data/SEEDS/optimizer`` into the database.

    python scripts/seed.py [--database-url URL] [--seeds-dir DIR]

Idempotent: a second run changes nothing and says so. Exit codes: 0 done; 2 a malformed seed file or bad
argument (one line on stderr naming file, JSON path and value); 3 a domain refusal (e.g. different prices
under a sealed pack's id); 1 the database could not be reached or failed. The logic lives in
:func:`app.seeding.seed_database` (also behind ``dawsos seed``); this is a thin wrapper.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seed.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: $DATABASE_URL or the SQLite file)")
    parser.add_argument("--seeds-dir", type=Path, help="seed folder (default: data/SEEDS/optimizer)")
    args = parser.parse_args(argv)

    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from app.core.errors import DawsosError
    from app.core.logging import configure_logging
    from app.core.settings import Settings
    from app.seeding import seed_database

    try:
        settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    except ValidationError as exc:
        print(
            f"seed.py: --database-url: {exc.errors()[0]['msg'].removeprefix('Value error, ')}",
            file=sys.stderr,
        )
        return 2
    configure_logging(level=settings.log_level, json=settings.log_json)
    seeds_dir = args.seeds_dir or settings.seeds_dir
    try:
        report = asyncio.run(seed_database(settings.database_url, seeds_dir, echo=settings.sql_echo))
    except DawsosError as exc:
        print(f"seed.py: {exc}", file=sys.stderr)
        return exc.exit_code
    except (SQLAlchemyError, OSError) as exc:
        print(f"seed.py: database error: {_one_line(exc)}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
