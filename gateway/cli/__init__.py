"""The ``gateway`` command.

``main`` (serve, init, send, status, validate, ...), ``admin`` and
``partners`` commands, and ``scaffold`` for ``gateway init``.
"""
