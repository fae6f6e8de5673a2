"""gateway.toml: the frozen Settings (``settings``), and the loader that reads
and checks a file (``loader``, with ``reader``, ``terms`` and ``safety``).
"""
