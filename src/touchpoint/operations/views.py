from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from touchpoint.operations.heartbeat import worker_state


def _database_answers() -> str | None:
    """None when `SELECT 1` answers within HEALTH_DB_TIMEOUT seconds; else the kind of failure."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "SET LOCAL statement_timeout = %s", [int(settings.HEALTH_DB_TIMEOUT * 1000)]
                    )
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except DatabaseError as error:
        return type(error).__name__
    return None


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database answers, 503 with the reason when it does not.

    The worker's heartbeat is reported ("ok", "late", "never" and its age); it turns the answer into
    503 only with `?strict=1`. No session, no customer data.
    """
    problem = _database_answers()
    if problem is not None:
        return JsonResponse({"status": "error", "database": "error", "reason": problem}, status=503)
    worker = worker_state()
    body: dict[str, object] = {
        "status": "ok",
        "database": "ok",
        "worker": worker.state,
        "worker_age_seconds": worker.age_seconds,
    }
    status = 200
    if request.GET.get("strict") == "1" and worker.state != "ok":
        body["status"] = "error"
        body["reason"] = f"worker {worker.state}"
        status = 503
    return JsonResponse(body, status=status)
