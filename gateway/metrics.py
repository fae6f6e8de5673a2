"""Prometheus metrics, one registry per gateway instance (tests run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "gateway_documents_received",
            "Documents accepted for processing",
            ["direction"],
            registry=r,
        )
        self.rejected = Counter(
            "gateway_documents_rejected",
            "Documents refused by validation or policy",
            ["direction", "reason"],
            registry=r,
        )
        self.delivered = Counter(
            "gateway_documents_delivered",
            "Documents delivered (or printed), by route",
            ["route"],
            registry=r,
        )
        self.failed = Counter(
            "gateway_documents_failed",
            "Documents that reached the dead-letter state",
            ["route"],
            registry=r,
        )
        self.attempts = Counter(
            "gateway_delivery_attempts",
            "Delivery attempts, by route and outcome",
            ["route", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "gateway_delivery_latency_seconds",
            "Time from acceptance to delivery",
            ["route"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400),
            registry=r,
        )
        self.outbox_depth = Gauge(
            "gateway_outbox_depth", "Deliveries waiting in the outbox", registry=r
        )

        self.peer_circuit = Gauge(
            "gateway_peer_circuit_state",
            "Circuit breaker of a peer network: 0 closed, 1 open, 2 half-open",
            ["peer"],
            registry=r,
        )
        self.peer_in_flight = Gauge(
            "gateway_peer_in_flight", "Deliveries in flight to a peer network", ["peer"], registry=r
        )
        self.deferred = Counter(
            "gateway_delivery_deferred",
            "Deliveries put back without an attempt, the peer being busy or failing",
            ["peer", "cause"],
            registry=r,
        )

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
