"""`dawsos serve`: the REST API (``/api/v1``, OpenAPI at ``/openapi.json``, docs at ``/docs``) and the gRPC service
(``portfolio_optimization.v1``) in one process, with the bounded pool of job workers.

FastAPI, uvicorn and grpc are imported inside the command only: ``import app.cli`` stays light.
"""

from __future__ import annotations

import os
import sys

import typer

from app.cli.common import fail, run, settings


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (both servers)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="REST port."),
    grpc_port: int = typer.Option(50051, "--grpc-port", min=0, max=65535, help="gRPC port; 0: no gRPC."),
    workers: int = typer.Option(2, "--workers", min=1, max=64, envvar="DAWSOS_JOB_WORKERS",
                                help="Optimization jobs run at once by this process."),
    lease_seconds: float = typer.Option(30.0, "--lease-seconds", min=0.5, max=3600,
                                        envvar="DAWSOS_JOB_LEASE_SECONDS",
                                        help="A job whose server stops renewing this lease is resumed elsewhere."),
    log_level: str = typer.Option("INFO", "--log-level", envvar="DAWSOS_SERVE_LOG_LEVEL",
                                  help="Server log level (lines carry request_id, user and route)."),
) -> None:
    """Serve the REST and gRPC APIs until SIGTERM or SIGINT (then shut down gracefully)."""
    from app.core.errors import InputError
    from app.core.logging import LogFile, configure_logging

    if grpc_port and grpc_port == port:
        raise fail(InputError(f"--grpc-port: {grpc_port} is the REST --port too; give two ports (or 0 for no gRPC)"))
    current = settings()
    verbose = bool(ctx.parent.params.get("verbose")) if ctx.parent is not None else False
    configure_logging(level=log_level, json=True, force=True, sink=None if verbose else LogFile(current.log_file))

    async def body() -> None:
        from app.api.server import ServeOptions
        from app.api.server import serve as run_server
        from app.orchestrator.jobs import JobSettings

        jobs = JobSettings(workers=workers, lease_seconds=lease_seconds)
        await run_server(current, ServeOptions(host=host, port=port, grpc_port=grpc_port, jobs=jobs))

    run(body)
    # Everything is stopped, stored and closed (requests answered, jobs finished or given back, database and
    # log file closed): skip the interpreter's teardown of the numerical libraries (seconds, and nothing to
    # save), so a supervisor sees the process end as soon as the shutdown is done.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
