"""The ranked list out of Touchpoint for the product backlog: CSV (a spreadsheet, Jira or Linear
import) with every figure behind each request's rank. The same rows are JSON through the API
(`GET /api/v1/feature-requests`)."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from touchpoint.feature_requests.selectors import Ranked
from touchpoint.spreadsheet import SafeWriter


def ranked_csv(rows: list[Ranked]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs read the UTF-8 right with a byte-order mark
    writer = SafeWriter(out)  # a request typed as "=HYPERLINK(…)" stays text
    writer.writerow(
        [
            _("Rank"),
            _("ID"),
            _("Title"),
            _("Product area"),
            _("Status"),
            _("Accounts asking"),
            _("ARR (%(currency)s)") % {"currency": settings.TOUCHPOINT_CURRENCY},
            _("Revenue at stake (%(currency)s)") % {"currency": settings.TOUCHPOINT_CURRENCY},
            _("Added for near renewals"),
            _("Added for poor health"),
            _("Accounts renewing soon"),
            _("Accounts in poor health"),
            _("Created"),
            _("Description"),
        ]
    )
    for row in rows:
        request, stake = row.request, row.stake
        writer.writerow(
            [
                row.rank,
                request.pk,
                request.title,
                request.product_area,
                request.get_status_display(),
                stake.accounts,
                f"{stake.arr:.2f}",
                f"{stake.total:.2f}",
                f"{stake.renewal_boost:.2f}",
                f"{stake.health_boost:.2f}",
                stake.renewing_soon,
                stake.at_risk,
                timezone.localtime(request.created_at).date().isoformat(),
                request.description,
            ]
        )
    return out.getvalue()
