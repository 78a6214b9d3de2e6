"""`dawsos` command line (Typer + Rich): the root app and its entry point :func:`main` (see :mod:`app.cli.main`)."""

from app.cli.main import app, main

__all__ = ["app", "main"]
