"""Fuzz targets for the readers that face the internet.

Each target takes raw bytes, feeds them to one reader, and raises
``AssertionError`` when the reader breaks a promise: anything but a
``GatewayError`` escaping, or (for signed messages) a tampered message being
accepted. Expected refusals are the normal outcome and are swallowed.

The same targets run in two ways:

* under hypothesis, in the test suite (``tests/fuzz``), a few hundred inputs
  each, derived from valid seeds by random mutations;
* under atheris (coverage-guided, libFuzzer), for as long as you like:
  ``scripts/fuzz TARGET [SECONDS]`` (docs/fuzzing.md).
"""
