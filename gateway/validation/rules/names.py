"""Clark names as attributes: ``Cbc.ID`` is ``{...CommonBasicComponents-2}ID``.

Kept in a module of its own because it is the one class of the rules that
adds attributes at run time (each name is spelled on first use, then read as
a plain attribute): the build leaves this module interpreted when it compiles
the others (see ``setup.py``).
"""

from __future__ import annotations


class Names:
    """The Clark names of one namespace, computed once and then plain look-ups."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def __getattr__(self, local: str) -> str:
        name = f"{{{self._namespace}}}{local}"
        setattr(self, local, name)
        return name
