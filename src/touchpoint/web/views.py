from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from touchpoint.web.navigation import nav


def home(request: HttpRequest) -> HttpResponseRedirect:
    """The first page of the navigation this person may see (the portfolio, as the apps register it)."""
    for entry in nav.visible_to(request.user):
        return HttpResponseRedirect(reverse(entry.url_name))
    return HttpResponseRedirect(reverse("login"))


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 200 when the app can reach its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
