"""Key features in the API: everyone signed in lists them, admins mark, unmark and replace the set,
with the page's validation and audit."""

from __future__ import annotations

import pytest

from tests.conftest import assert_api_error
from touchpoint.usage.models import KeyFeature
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def test_everyone_signed_in_lists_them(api, viewer_api):
    KeyFeature.objects.create(event="Report created", label="Reports")
    KeyFeature.objects.create(event="Export")
    for client in (api, viewer_api):
        body = client.get("/key-features").json()
        assert body["count"] == 2
        assert [(item["event"], item["label"]) for item in body["items"]] == [
            ("Export", ""),
            ("Report created", "Reports"),
        ]
    assert api.get("/key-features", limit=1, offset=1).json()["items"][0]["event"] == "Report created"


def test_an_admin_marks_relabels_and_unmarks_audited(admin_api, admin_user):
    created = admin_api.send("post", "/key-features", {"event": " Report created ", "label": "Reports"})
    assert created.status_code == 201 and created.json()["event"] == "Report created"
    relabelled = admin_api.send("post", "/key-features", {"event": "Report created", "label": "Reporting"})
    assert relabelled.status_code == 200 and relabelled.json()["label"] == "Reporting"
    feature_id = created.json()["id"]
    assert admin_api.send("delete", f"/key-features/{feature_id}").status_code == 204
    assert not KeyFeature.objects.exists()
    assert admin_api.send("delete", f"/key-features/{feature_id}").status_code == 404
    entries = AuditLogEntry.objects.filter(object_type="usage.keyfeature").order_by("id")
    assert list(entries.values_list("action", "actor_id")) == [
        ("create", admin_user.pk),
        ("change", admin_user.pk),
        ("delete", admin_user.pk),
    ]


def test_a_put_replaces_the_whole_set_and_again_changes_nothing(admin_api):
    KeyFeature.objects.create(event="Old feature")
    KeyFeature.objects.create(event="Report created", label="Reports")
    body = {"key_features": [{"event": "Report created", "label": "Reporting"}, {"event": "Invite sent"}]}
    dry = admin_api.send("put", "/key-features", {**body, "dry_run": True}).json()
    assert dry["dry_run"] is True and dry["created"] == ["Invite sent"] and dry["removed"] == ["Old feature"]
    assert KeyFeature.objects.count() == 2 and KeyFeature.objects.filter(event="Old feature").exists()
    done = admin_api.send("put", "/key-features", body)
    assert done.status_code == 200, done.content
    assert done.json() == {
        "created": ["Invite sent"],
        "relabelled": [{"event": "Report created", "old_label": "Reports", "label": "Reporting"}],
        "removed": ["Old feature"],
        "unchanged": 0,
        "dry_run": False,
    }
    assert dict(KeyFeature.objects.values_list("event", "label")) == {
        "Report created": "Reporting",
        "Invite sent": "",
    }
    again = admin_api.send("put", "/key-features", body).json()
    assert (again["created"], again["relabelled"], again["removed"], again["unchanged"]) == ([], [], [], 2)


def test_only_admins_change_them(api, viewer_api):
    for client in (api, viewer_api):
        assert_api_error(client.send("post", "/key-features", {"event": "Export"}), 403)
        assert_api_error(client.send("put", "/key-features", {"key_features": []}), 403)
    feature = KeyFeature.objects.create(event="Export")
    assert_api_error(api.send("delete", f"/key-features/{feature.pk}"), 403)
    assert KeyFeature.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event": ""}, "event"),
        ({"event": "   "}, "event"),
        ({"event": "x" * 211}, "event"),
        ({"event": "Export", "label": "x" * 101}, "label"),
        ({"event": "Ex\x00port"}, "event"),
        ({"event": 5}, "event"),
        ({"event": "Export", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_the_field(admin_api, body, field):
    assert_api_error(admin_api.send("post", "/key-features", body), 422, field)
    assert not KeyFeature.objects.exists()


def test_a_set_with_an_event_twice_or_too_deep_is_refused_whole(admin_api):
    KeyFeature.objects.create(event="Kept")
    twice = {"key_features": [{"event": "A"}, {"event": "B"}, {"event": " A"}]}
    assert_api_error(admin_api.send("put", "/key-features", twice), 422, "key_features[2].event")
    assert_api_error(
        admin_api.send("put", "/key-features", {"key_features": [{"event": "A"}] * 1001}), 422, "key_features"
    )
    deep = '{"key_features": ' + "[" * 300 + "]" * 300 + "}"
    assert admin_api.send("put", "/key-features", raw=deep).status_code in (400, 422)
    assert_api_error(admin_api.send("delete", f"/key-features/{2**63}"), 422, "feature_id")
    assert list(KeyFeature.objects.values_list("event", flat=True)) == ["Kept"]
