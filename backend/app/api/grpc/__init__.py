"""gRPC: seed 003's ``portfolio_optimization.v1`` service (:mod:`app.api.grpc.server`) over the generated modules
in :mod:`app.api.grpc.gen` (``make proto``). Imported only by ``dawsos serve`` and the tests."""
