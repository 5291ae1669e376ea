"""The REST API root: every app's router on one NinjaAPI, with the contract of touchpoint.api_contract.

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


from touchpoint.accounts.api import router as accounts_router  # noqa: E402
from touchpoint.health.api import router as health_router  # noqa: E402
from touchpoint.revenue.api import router as revenue_router  # noqa: E402
from touchpoint.usage.api import router as usage_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/", usage_router)
api.add_router("/", health_router)
api.add_router("/", revenue_router)
