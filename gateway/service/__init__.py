"""Orchestration: the only code that calls several parts.

Intake checks, submit / receive / dispatch (``pipeline``), delivery, the
per-peer gate and the outbox worker.
"""
