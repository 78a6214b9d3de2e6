"""REST ``/api/v1`` (FastAPI): :func:`app.api.rest.app.create_app` builds the ASGI app over a
:class:`~app.api.service.Service`. Imported only by ``dawsos serve`` and the tests (FastAPI loads here)."""
