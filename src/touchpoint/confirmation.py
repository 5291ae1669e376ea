"""Values that are allowed but unusual: a service asks the person to confirm them before it writes.

A service raises `NeedsConfirmation` (a ValidationError keyed by field, each error's `code` the
warning's code) after every hard check has passed; the caller says which warnings it accepts with
`confirm`: True for all of them, or a collection of codes. Forms show a "Yes, this is right" box
beside the field, the API answers 409 with the codes, the CSV import reports a row problem unless the
row's `confirm` column says yes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.core.exceptions import ValidationError

Confirm = bool | Collection[str]


class NeedsConfirmation(ValidationError):
    """The values are valid but unusual: nothing was written; send them again, confirmed."""

    def warnings(self, rename: Mapping[str, str] | None = None) -> dict[str, tuple[str, str]]:
        """{field: (code, message)}, as `ask_to_confirm` took them: what a form shows beside each field
        with its "Yes, this is right" box. `rename` maps the service's field names to the form's."""
        rename = rename or {}
        return {
            rename.get(field, field): (errors[0].code or "", " ".join(m for e in errors for m in e.messages))
            for field, errors in self.error_dict.items()
        }


def is_confirmed(confirm: Confirm, code: str) -> bool:
    if isinstance(confirm, bool):
        return confirm
    return code in confirm


def ask_to_confirm(warnings: dict[str, tuple[str, str]], confirm: Confirm) -> None:
    """Raise NeedsConfirmation for the warnings ({field: (code, message)}) not confirmed yet."""
    pending = {
        field: ValidationError(message, code=code)
        for field, (code, message) in warnings.items()
        if not is_confirmed(confirm, code)
    }
    if pending:
        raise NeedsConfirmation(pending)
