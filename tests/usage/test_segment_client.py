"""The official Segment Python client, pointed at a live Touchpoint on 127.0.0.1, changes only the host."""

import pytest
from segment.analytics.client import Client as SegmentClient

from touchpoint.accounts.models import Account, Contact
from touchpoint.usage.models import RawEvent
from touchpoint.usage.services import create_source

pytestmark = pytest.mark.django_db(transaction=True)


def send_everything(client: SegmentClient) -> None:
    client.identify("user-1", {"email": "yuki@northwind.example", "name": "Yuki Tanaka"})
    client.group("user-1", "northwind", {"name": "Northwind Traders", "website": "northwind.example"})
    client.track("user-1", "Report Created", {"report": "churn"}, context={"groupId": "northwind"})
    client.page("user-1", category="Docs", name="Getting started")
    client.flush()


@pytest.mark.parametrize("gzip", [False, True])
def test_official_client_calls_are_stored_and_a_replay_adds_nothing(live_server, gzip):
    source = create_source(name=f"Python backend {gzip}", actor=None)
    errors = []
    client = SegmentClient(
        source.write_key,
        host=live_server.url,
        sync_mode=True,
        gzip=gzip,
        max_retries=1,
        on_error=lambda error, batch: errors.append(error),
    )
    send_everything(client)
    assert not errors
    account = Account.objects.get(external_id="northwind")
    assert account.name == "Northwind Traders"
    contact = Contact.objects.get(external_id="user-1")
    assert contact.account == account and contact.email == "yuki@northwind.example"
    stored = {(e.type, e.event) for e in RawEvent.objects.filter(source=source)}
    assert stored == {
        ("identify", ""),
        ("group", ""),
        ("track", "Report Created"),
        ("page", "Getting started"),
    }
    assert RawEvent.objects.get(source=source, type="track").account == account

    # Replay the very same messages (same messageIds), as a client retrying after a timeout does.
    replay = list(RawEvent.objects.filter(source=source).values_list("message_id", flat=True))
    from segment.analytics.request import post

    post(
        source.write_key,
        host=live_server.url,
        gzip=gzip,
        batch=[
            {"type": "track", "messageId": message_id, "userId": "user-1", "event": "Report Created"}
            for message_id in replay
        ],
    )
    assert RawEvent.objects.filter(source=source).count() == 4
