"""The REST API root: every plugin app's router on one NinjaAPI, with the contract of touchpoint.api_contract.

Errors always answer `{"detail": "...", "errors": [{"field": "...", "message": "..."}]}`.
"""

from __future__ import annotations

import orjson
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser

from touchpoint.api_contract import authentication, install_error_handlers


class OrjsonParser(Parser):
    """JSON bodies through orjson: faster, and strict about what is valid JSON."""

    def parse_body(self, request: HttpRequest):
        return orjson.loads(request.body)


api = NinjaAPI(
    parser=OrjsonParser(),
    title="Touchpoint API",
    version="1",
    description="Customer success data: accounts, contacts, timelines and more.",
    auth=authentication(),
    urls_namespace="api",
)
install_error_handlers(api)


def _add_plugin_routers() -> None:
    """Every plugin app's `api.py` router (see touchpoint/plugins.py), in INSTALLED_APPS order."""
    from touchpoint.plugins import plugin_modules

    for _config, module in plugin_modules("api"):
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router(getattr(module, "API_PREFIX", "/"), router)


_add_plugin_routers()
