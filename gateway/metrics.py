"""Prometheus metrics, one registry per gateway instance (tests run several)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# A `_created` series beside every counter and histogram only doubles what a
# scrape carries: Prometheus detects restarts from the counters themselves.
disable_created_metrics()  # type: ignore[no-untyped-call]

# HTTP answers: most take milliseconds; a large document or a slow store, seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120)


class Metrics:
    def __init__(self, build: dict[str, str] | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.build_info = Gauge(
            "gateway_build_info",
            "The running build: version, rules release, whether the rules run compiled",
            sorted(build or {}),
            registry=r,
        )
        if build:
            self.build_info.labels(**build).set(1)
        self.http_requests = Counter(
            "gateway_http_requests",
            "HTTP answers, by route pattern, method and status (refusals included)",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "gateway_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern and method",
            ["route", "method"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
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
        self.refused = Counter(
            "gateway_documents_refused",
            "Documents no route allowed, or the recipient's network refused",
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

        self.webhook_attempts = Counter(
            "gateway_webhook_attempts",
            "Webhook calls posted, by outcome: delivered (2xx), retry, dead (given up)",
            ["outcome"],
            registry=r,
        )
        self.webhook_dead_letters = Counter(
            "gateway_webhook_dead_letters",
            "Webhook deliveries given up: past [webhooks] give_up_after_seconds, or unsubscribed",
            registry=r,
        )
        self.webhooks_queued = Counter(
            "gateway_webhooks_queued",
            "Webhook deliveries queued by the relay, by type",
            ["type"],
            registry=r,
        )

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
