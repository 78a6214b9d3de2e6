"""The dashboard: server-rendered pages (Jinja2) served by ``dawsos serve``'s FastAPI app at ``/``.

Every page reads and writes through :class:`app.api.service.Service`, the transport-neutral operations the REST
and gRPC interfaces use (each one ``orchestrator.call`` as the signed-in user): the orchestrator checks roles,
so a forged request is refused there whatever the page showed. :func:`app.web.routes.mount` adds the pages and
the static files to an app.
"""
