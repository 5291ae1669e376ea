from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.response import TemplateResponse

from touchpoint.home.sections import home_sections
from touchpoint.home.selectors import scope_for
from touchpoint.request_types import AuthenticatedHttpRequest


@login_required
def my_day(request: AuthenticatedHttpRequest) -> TemplateResponse:
    """The page a person opens every morning: what to do today, across the sections the apps register."""
    scope = scope_for(request.user)
    sections = [
        {"section": section, "data": section.items(scope)}
        for section in home_sections.visible_to(request.user)
    ]
    return render(request, "home/my_day.html", {"scope": scope, "sections": sections})
