from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from touchpoint.web.navigation import nav


def home(request: HttpRequest) -> HttpResponseRedirect:
    """The first page of the navigation this person may see (the portfolio, as the apps register it)."""
    for entry in nav.visible_to(request.user):
        return HttpResponseRedirect(reverse(entry.url_name))
    return HttpResponseRedirect(reverse("login"))
