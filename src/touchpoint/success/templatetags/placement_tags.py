from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def days_since(moment: datetime | None) -> int | None:
    """Whole days from `moment` to now, in the site's time zone (time in phase)."""
    if moment is None:
        return None
    return max(0, (timezone.localdate() - timezone.localdate(moment)).days)
