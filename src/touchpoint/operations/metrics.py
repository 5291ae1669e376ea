"""Prometheus metrics: /metrics (off unless TOUCHPOINT_METRICS=1 or a TOUCHPOINT_METRICS_TOKEN is set).

Two kinds of numbers:
- counted by the process that saw them (requests, their latency, ingested events and batches):
  prometheus-client counters and histograms. With several web processes set PROMETHEUS_MULTIPROC_DIR
  (an empty folder shared by them, emptied at each start) and every process writes its numbers there;
  /metrics, whichever process answers it, adds them up (prometheus-client's multiprocess mode).
- read from the database at scrape time (task queue depth, the rollup backlog, journey sends, the
  worker's heartbeat): right whatever process answers, and nothing to keep in step.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "touchpoint_http_requests",
    "HTTP requests answered, by route name and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "touchpoint_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_ACCEPTED = Counter("touchpoint_ingest_events_accepted", "Tracking events accepted and stored.")
EVENTS_DUPLICATE = Counter(
    "touchpoint_ingest_events_duplicate", "Tracking events already stored (same messageId)."
)
EVENTS_REJECTED = Counter(
    "touchpoint_ingest_events_rejected", "Tracking events refused (invalid or too large)."
)
BATCHES = Counter(
    "touchpoint_ingest_batches", "Tracking calls (a batch or a single message) that stored events."
)


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    LATENCY.labels(route=route).observe(seconds)


def observe_ingest(*, accepted: int, duplicates: int, rejected: int, **_signal: object) -> None:
    """Counts a tracking call; connected to usage's `batch_ingested` signal (OperationsConfig.ready)."""
    if accepted or duplicates:
        BATCHES.inc()
    EVENTS_ACCEPTED.inc(accepted)
    EVENTS_DUPLICATE.inc(duplicates)
    EVENTS_REJECTED.inc(rejected)


class DatabaseCollector(Collector):
    """Gauges read from the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from django_tasks_db.models import DBTaskResult

        from touchpoint.journeys.models import EXTERNAL_KINDS, OutboxRow, OutboxStatus
        from touchpoint.operations.models import WorkerHeartbeat
        from touchpoint.usage.models import PendingRollup

        tasks = GaugeMetricFamily(
            "touchpoint_task_queue", "Background tasks by status (ready, running, failed).", labels=["status"]
        )
        counts = dict(
            DBTaskResult.objects.filter(status__in=["READY", "RUNNING", "FAILED"])
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        for status in ("READY", "RUNNING", "FAILED"):
            tasks.add_metric([status.lower()], counts.get(status, 0))
        yield tasks

        pending = PendingRollup.objects.aggregate(n=Count("pk"), oldest=Min("day"))
        yield GaugeMetricFamily(
            "touchpoint_rollup_pending",
            "(account, day) pairs whose usage rollups wait for a refresh.",
            value=pending["n"],
        )
        lag = 0.0
        if pending["oldest"] is not None:
            # How far back the oldest pending day goes: 0 when the rollups are current.
            lag = max(0.0, (timezone.localdate() - pending["oldest"]).days * 86400.0)
        yield GaugeMetricFamily(
            "touchpoint_rollup_pending_oldest_day_age_seconds",
            "Age of the oldest day waiting for a rollup refresh (0 when none waits).",
            value=lag,
        )
        # The oldest ready task: how long the queue keeps work waiting (the rollups refresh as a poller,
        # the rest of the worker's work as tasks).
        oldest_ready = DBTaskResult.objects.filter(status="READY").aggregate(at=Min("enqueued_at"))["at"]
        yield GaugeMetricFamily(
            "touchpoint_task_queue_oldest_ready_age_seconds",
            "Age of the oldest task waiting to run (0 when none waits).",
            value=max(0.0, (timezone.now() - oldest_ready).total_seconds()) if oldest_ready else 0.0,
        )

        sends = GaugeMetricFamily(
            "touchpoint_journey_messages",
            "Journey messages (email, in-app, webhook) by channel and delivery status.",
            labels=["channel", "status"],
        )
        by_channel = {
            (kind, status): n
            for kind, status, n in OutboxRow.objects.filter(kind__in=sorted(EXTERNAL_KINDS))
            .order_by()
            .values_list("kind", "status")
            .annotate(n=Count("pk"))
            .values_list("kind", "status", "n")
        }
        for kind in sorted(EXTERNAL_KINDS):
            for status in OutboxStatus.values:
                sends.add_metric([kind, status], by_channel.get((kind, status), 0))
        yield sends

        latest = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
        yield GaugeMetricFamily(
            "touchpoint_workers", "Workers that beat in the last day.", value=WorkerHeartbeat.objects.count()
        )
        if latest is not None:
            yield GaugeMetricFamily(
                "touchpoint_worker_heartbeat_age_seconds",
                "Seconds since any worker last beat.",
                value=max(0.0, (timezone.now() - latest).total_seconds()),
            )


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY, EVENTS_ACCEPTED, EVENTS_DUPLICATE, EVENTS_REJECTED, BATCHES):
            registry.register(collector)
    registry.register(DatabaseCollector())
    return registry


def _allowed(request: HttpRequest) -> bool:
    token = settings.TOUCHPOINT_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return settings.TOUCHPOINT_METRICS


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition; 404 when metrics are off, 401 without the right bearer token."""
    if not settings.TOUCHPOINT_METRICS and not settings.TOUCHPOINT_METRICS_TOKEN:
        raise Http404
    if not _allowed(request):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
