"""DawsOS policy rebalancer.

Importing ``app`` or any sub-package touches no database, file or environment
variable: everything stateful is built by :func:`app.bootstrap.bootstrap`.
"""

ENGINE_VERSION = "0.1.0"
