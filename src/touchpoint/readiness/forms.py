"""The readiness pages' forms. They parse what people type; the services check the rest."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from touchpoint.readiness import library
from touchpoint.readiness.models import Answer, MapKind, ReadinessMap, Status
from touchpoint.users.models import User

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEMPLATE_PREFIX = "template:"
MAP_PREFIX = "map:"


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


def _people(form: forms.Form, *names: str) -> None:
    for name in names:
        cast(forms.ModelChoiceField, form.fields[name]).queryset = User.objects.filter(
            is_active=True
        ).order_by("full_name", "email")


def _person_field(label: Any) -> PersonField:
    return PersonField(label=label, required=False, queryset=User.objects.none(), empty_label="—")


class MapForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("For"), choices=MapKind.choices)
    product = forms.CharField(label=_("Product"), required=False, max_length=200)
    launch_on = forms.DateField(label=_("Launch date"), required=False, widget=DATE_WIDGET)
    owner = _person_field(_("Owner"))
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people(self, "owner")


class NewMapForm(MapForm):
    start_from = forms.ChoiceField(label=_("Start from"))

    def __init__(self, *args: Any, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = [
            (
                f"{TEMPLATE_PREFIX}{key}",
                _("Template: %(name)s") % {"name": library.template_name(key, language)},
            )
            for key in library.template_keys()
        ]
        maps = [
            (f"{MAP_PREFIX}{pk}", _("Copy of: %(name)s") % {"name": name})
            for pk, name in ReadinessMap.objects.order_by("name", "id").values_list("pk", "name")
        ]
        cast(forms.ChoiceField, self.fields["start_from"]).choices = [
            *templates,
            *maps,
            ("", _("An empty grid")),
        ]
        self.fields["start_from"].required = False


class RowForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)


class FunctionForm(RowForm):
    lead = _person_field(_("Lead"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people(self, "lead")


class TouchpointForm(forms.Form):
    name = forms.CharField(label=_("Touchpoint"), max_length=200)
    stage = forms.TypedChoiceField(label=_("Stage"), coerce=int)
    function = forms.TypedChoiceField(label=_("Function"), coerce=int)
    owner = _person_field(_("Owner"))
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DATE_WIDGET)
    description = forms.CharField(
        label=_("What the customer meets"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, readiness_map: ReadinessMap, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["stage"]).choices = list(
            readiness_map.stages.values_list("pk", "name")
        )
        cast(forms.ChoiceField, self.fields["function"]).choices = list(
            readiness_map.functions.values_list("pk", "name")
        )
        _people(self, "owner")


class NewTouchpointForm(TouchpointForm):
    questions = forms.CharField(
        label=_("Checklist questions, one per line"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(label=_("Answer"), choices=Answer.choices, required=False)
    evidence_url = forms.CharField(label=_("Evidence link"), required=False, max_length=500)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class QuestionForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=500)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class LinkForm(forms.Form):
    """What serves the touchpoint: "kind:target" from the choices the apps registered."""

    target = forms.ChoiceField(label=_("Served by"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from touchpoint.readiness.links import link_kinds

        super().__init__(*args, **kwargs)
        groups: list[tuple[str, list[tuple[str, str]]]] = []
        for kind in link_kinds.all():
            options = [(f"{kind.key}:{target}", label) for target, label in kind.choices()]
            if options:
                groups.append((str(kind.label), options))
        cast(forms.ChoiceField, self.fields["target"]).choices = [("", "—"), *groups]

    def kind_and_target(self) -> tuple[str, str]:
        kind, _sep, target = self.cleaned_data["target"].partition(":")
        return kind, target


class TaskForm(forms.Form):
    due_on = forms.DateField(label=_("Due date"), widget=DATE_WIDGET)


class UptimeForm(forms.Form):
    product = forms.CharField(label=_("Product"), max_length=200)
    month = forms.DateField(label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
    uptime_percent = forms.DecimalField(
        label=_("Uptime (%)"), min_value=0, max_value=100, max_digits=7, decimal_places=4
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A month input posts "2026-11"; a date input (older browsers) the whole day.
        cast(forms.DateField, self.fields["month"]).input_formats = ["%Y-%m", "%Y-%m-%d"]
