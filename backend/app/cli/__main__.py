"""``python -m app.cli``: the same as the ``dawsos`` command."""

from app.cli.main import main

main()
