"""The running gateway.

The aiohttp application (``app``), the sender API (``api``), the edge
checks (``edge``) and the health answers (``health``).
"""
