"""The network interfaces (DESIGN.md "Layers": interfaces): the transport-neutral service (:mod:`app.api.service`),
REST (:mod:`app.api.rest`, FastAPI) and gRPC (:mod:`app.api.grpc`). Every operation is an ``orchestrator.call``;
nothing here reaches the engine or the database another way. Importing this package loads neither FastAPI nor
grpc: ``dawsos serve`` imports them when it starts.
"""
