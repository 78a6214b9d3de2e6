"""DawsOS policy rebalancer.

Importing ``app`` or any sub-package touches no database, file or environment
variable: everything stateful is built by :func:`app.bootstrap.bootstrap`.
"""

ENGINE_VERSION = "0.2.0"  # 0.2.0: reduced trade path (solves to optimal), top-up of rounding cash
