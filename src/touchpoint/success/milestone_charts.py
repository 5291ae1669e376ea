"""Time-to-value chart, drawn on the server as SVG (Vega-Lite through Altair and vl-convert)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from touchpoint.success.milestone_selectors import Bucket
from touchpoint.web.charts import svg

# Altair is imported inside the function: see touchpoint.web.charts.


def bucket_label(bucket: Bucket) -> str:
    if bucket.high is None:
        return _("%(low)s+ days") % {"low": bucket.low}
    return _("%(low)s–%(high)s days") % {"low": bucket.low, "high": bucket.high}


def histogram_svg(buckets: tuple[Bucket, ...]) -> str:
    """Accounts per bucket of days to first value, in bucket order."""
    import altair as alt

    labels = [bucket_label(b) for b in buckets]
    values = [
        {
            "bucket": label,
            "accounts": b.count,
            "tip": ngettext("%(bucket)s: %(n)s account", "%(bucket)s: %(n)s accounts", b.count)
            % {"bucket": label, "n": b.count},
        }
        for label, b in zip(labels, buckets, strict=True)
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color="#2857c5")
        .encode(
            x=alt.X("bucket:N", title=_("Days to first value"), sort=labels, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("accounts:Q", title=_("Accounts"), axis=alt.Axis(tickMinStep=1, format="d")),
            description="tip:N",
        )
        .properties(height=180)
    )
    return svg(chart, width=720)
