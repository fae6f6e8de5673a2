"""The ``gateway`` command: ``main`` (the parser and entry point), one module
per job (``network``, ``documents``, ``validate``, ``sample``, ``route``,
``agreements``, ``settlement``, ``partners``), ``common`` (the configuration
rule every command follows) and ``scaffold`` for ``gateway init``.
"""
