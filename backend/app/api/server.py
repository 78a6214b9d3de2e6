"""``dawsos serve``'s process: one event loop runs the REST app (uvicorn), the gRPC server (grpc.aio) and the
job workers, all over one :class:`~app.api.service.Service` (one orchestrator).

Start-up: bind the REST port, migrate the database, start gRPC, then the workers (jobs a dead server left
``processing`` are resumed or failed), then serve REST (a port that cannot be bound is one error line, exit 2).
SIGTERM or SIGINT: stop accepting (uvicorn finishes in-flight requests, gRPC gets a grace period), stop the
workers (running jobs get their grace, then go back to the queue), close the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import structlog

from app.orchestrator.jobs import JobSettings

log = structlog.get_logger()


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    grpc_port: int = 50051
    jobs: JobSettings = JobSettings()
    grace_seconds: float = 10.0


def _uvicorn_server(app: Any, options: ServeOptions) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its own signal handling: this process's handlers stop everything in order."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    config = uvicorn.Config(app, host=options.host, port=options.port, log_config=None, access_log=False,
                            lifespan="off", timeout_graceful_shutdown=int(options.grace_seconds))
    return Server(config)


async def serve(settings: Any, options: ServeOptions) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully."""
    from app.api.rest.app import create_app
    from app.api.service import Service
    from app.bootstrap import bootstrap
    from app.orchestrator.jobs import JobRunner
    from app.web.routes import mount

    listener = _listen(options.host, options.port)
    async with bootstrap(settings) as running:
        runner = JobRunner(running.orchestrator, running.jobs, settings=options.jobs)
        service = Service(app=running, runner=runner)
        grpc_server = await _start_grpc(service, options)  # both ports are held before any job is claimed
        await runner.start()
        threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()  # a stop never waits for it
        rest = _uvicorn_server(mount(create_app(service)), options)  # the dashboard at /
        _on_signals(rest)
        where = f"dashboard http://{options.host}:{options.port}/, REST /api/v1 (docs /docs)"
        where += f", gRPC {options.host}:{options.grpc_port}" if grpc_server is not None else ""
        print(f"dawsos serve: {where}; job workers {options.jobs.workers}", file=sys.stderr, flush=True)
        log.info("serve.started", host=options.host, port=options.port, grpc_port=options.grpc_port,
                 owner=runner.owner)
        try:
            await rest.serve(sockets=[listener])
        finally:
            if grpc_server is not None:
                await grpc_server.stop(options.grace_seconds)
            await runner.stop()
            log.info("serve.stopped", owner=runner.owner)


def _listen(host: str, port: int) -> socket.socket:
    """The REST listening socket, bound before anything starts (ConfigurationError, exit 2, when it cannot be)."""
    from app.core.errors import ConfigurationError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def _warm_up() -> None:
    """Import the numerical libraries now, in a daemon thread, so the first optimization does not wait for
    them (seconds); requests are served meanwhile (Python's import lock makes a request that needs them wait for
    this import instead of starting another)."""
    import importlib

    for module in ("riskfolio", "cvxpy", "app.analytics.allocation.optimize", "app.analytics.propose"):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a failed warm-up costs nothing: the request that needs it reports it
            log.warning("serve.warm_up.failed", module=module, exc_info=True)
    log.info("serve.warmed_up")


async def _start_grpc(service: Any, options: ServeOptions) -> Any:
    if not options.grpc_port:
        return None
    from app.api.grpc.server import start_grpc

    return await start_grpc(service, host=options.host, port=options.grpc_port)


def _on_signals(rest: Any) -> None:
    loop = asyncio.get_running_loop()

    def stop(sig: signal.Signals) -> None:
        log.info("serve.signal", signal=sig.name)
        if rest.should_exit and sig is signal.SIGINT:
            rest.force_exit = True
        rest.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig)
