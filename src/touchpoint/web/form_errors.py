"""A service's ValidationError shown on the form that called it: each message beside its field, the
rest above the form."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def show_beside_fields(form: Any, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)
