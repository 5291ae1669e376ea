"""Text a person typed, checked the one way every service checks it: trimmed, no NUL character (a
database refuses it, PostgreSQL loudly), present when required, and within its length, with a message
that names the limit and the length given."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def clean_text(value: Any, field: str, *, limit: int, required: bool = False) -> str:
    """`value` trimmed, or a ValidationError on `field` that says what is wrong with it."""
    text = str(value or "").strip()
    if "\x00" in text:
        raise ValidationError({field: _("The text holds a NUL character.")})
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError(
            {
                field: _("Use at most %(limit)d characters (this has %(count)d).")
                % {"limit": limit, "count": len(text)}
            }
        )
    return text
