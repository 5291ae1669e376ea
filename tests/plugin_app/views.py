from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from touchpoint.accounts.models import Account


def page(request: HttpRequest) -> HttpResponse:
    return render(request, "plugin_app/page.html")


def panel(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    return render(request, "plugin_app/panel.html", {"account": account})
