from ninja import Router, Schema

from touchpoint.api_contract import READ, answers, require_perm

router = Router(tags=["plugin"])


class PingOut(Schema):
    plugin: str


@router.get("/plugin/ping", response=answers({200: PingOut}, *READ), summary="Plugin ping")
def ping(request):
    require_perm(request, "accounts.view_account")
    return {"plugin": "pong"}
