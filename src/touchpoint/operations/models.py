"""The worker's heartbeat: one row per worker process, its time moved forward at every beat."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    worker = models.CharField(_("worker"), max_length=200, primary_key=True)  # host:pid
    beat_at = models.DateTimeField(_("last beat"), db_index=True)
    started_at = models.DateTimeField(_("started"))

    class Meta:
        ordering = ["-beat_at"]
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker
