"""Generated gRPC modules (scripts/gen_proto.py)."""
