"""Forms of the integration pages."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.integrations.csv_import.importers import IMPORTERS, Importer


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"), choices=())
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            (kind, importer.label) for kind, importer in IMPORTERS.items()
        ]


class MappingForm(forms.Form):
    """One select per field of the import, offering the file's columns."""

    def __init__(self, *args, importer: Importer, header: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— not in the file —")), *((column, column) for column in header)]
        for target in importer.fields:
            label = f"{target.label} *" if target.required else str(target.label)
            self.fields[f"map_{target.name}"] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=False,
                initial=(kwargs.get("initial") or {}).get(target.name, ""),
            )
        self.importer = importer

    def mapping(self) -> dict[str, str]:
        return {
            target.name: self.cleaned_data.get(f"map_{target.name}", "") for target in self.importer.fields
        }
