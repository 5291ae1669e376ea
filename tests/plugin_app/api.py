from ninja import Router, Schema

router = Router(tags=["plugin"])


class PingOut(Schema):
    plugin: str


@router.get("/plugin/ping", response={200: PingOut}, summary="Plugin ping")
def ping(request):
    return {"plugin": "pong"}
