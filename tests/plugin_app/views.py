from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from tests.plugin_app.plugins import PAGE_PERMISSION
from touchpoint.accounts.models import Account
from touchpoint.users.permissions import permission_required, require


@permission_required(PAGE_PERMISSION)
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "plugin_app/page.html")


@login_required
def panel(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, "accounts.view_account", account)  # the one check, as every panel asks
    return render(request, "plugin_app/panel.html", {"account": account})
