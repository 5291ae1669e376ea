"""The import pages: upload, map, check in the background, import; who may use them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.conftest import logged_in_client
from tests.factories import UserFactory
from touchpoint.accounts.models import Account
from touchpoint.integrations.models import ImportJob
from touchpoint.users.roles import Role


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def upload(client, text: str, kind="accounts", name="accounts.csv"):
    return client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile(name, text.encode("cp932"))})


def work() -> None:
    call_command("worker", "--batch", "--no-schedules")


@pytest.mark.django_db(transaction=True)
def test_upload_map_check_and_import_through_the_worker(data_dir):
    leader = UserFactory(role=Role.CS_LEADER, email="leader@example.com")
    client = logged_in_client(leader)
    response = upload(client, "Key,Account Name,Website\nA1,株式会社さくら,sakura.example\nA2,,x.example\n")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert (job.encoding, job.delimiter, job.mapping) == (
        "cp932",
        ",",
        {"name": "Account Name", "domain": "Website"},
    )
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "株式会社さくら" in page and "cp932" in page

    # The external ID is not guessed from "Key": the check says what is missing, beside the form.
    response = client.post(f"/imports/{job.pk}/", {"action": "check", "map_name": "Account Name"})
    assert "it is required" in response.content.decode()
    client.post(
        f"/imports/{job.pk}/",
        {"action": "check", "map_external_id": "Key", "map_name": "Account Name", "map_domain": "Website"},
    )
    work()
    job.refresh_from_db()
    assert job.status == "failed" and job.result["problems"] == [
        "row 3, column Account Name: Required, but empty."
    ]
    assert "row 3, column Account Name" in client.get(f"/imports/{job.pk}/progress/").content.decode()

    # Fix the mapping (the name from the website column, say) and import.
    client.post(f"/imports/{job.pk}/", {"action": "import", "map_external_id": "Key", "map_name": "Website"})
    work()
    job.refresh_from_db()
    assert job.status == "done" and job.result["created"] == 2
    assert set(Account.objects.values_list("name", flat=True)) == {"sakura.example", "x.example"}


@pytest.mark.django_db
def test_only_admins_and_leaders_import(data_dir, csm, viewer):
    assert logged_in_client(csm).get("/imports/").status_code == 403
    assert logged_in_client(viewer).get("/imports/").status_code == 403
    admin = UserFactory(role=Role.ADMIN, email="a@example.com")
    assert logged_in_client(admin).get("/imports/").status_code == 200


@pytest.mark.django_db
def test_a_file_that_is_not_csv_is_refused_beside_the_field(data_dir):
    client = logged_in_client(UserFactory(role=Role.ADMIN, email="a@example.com"))
    response = client.post("/imports/", {"kind": "accounts", "file": SimpleUploadedFile("x.csv", b"")})
    assert response.status_code == 200 and "file" in response.context["form"].errors
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_background_check_speaks_the_uploaders_language(data_dir):
    from django.utils import translation

    from touchpoint.integrations.csv_import import jobs

    with translation.override("ja"):
        job = jobs.create_job(
            kind="accounts", actor=None, upload=SimpleUploadedFile("a.csv", b"Account ID,Account Name\nA1,\n")
        )
    with translation.override("en"):  # whatever the worker happens to run in
        jobs.run_job_task.call(job.pk, True)
    job.refresh_from_db()
    assert job.result["problems"] == ["2 行目、列 Account Name: 必須ですが空です。"]


@pytest.mark.django_db(transaction=True)
def test_the_check_says_how_a_subscriptions_file_was_read(data_dir):
    from tests.factories import AccountFactory

    AccountFactory(external_id="A1")
    client = logged_in_client(UserFactory(role=Role.CS_LEADER))
    upload(
        client,
        "Subscription ID,Account ID,Product,MRR,Start Date\nS1,A1,Cloud,100,2025-01-01\nS1,A1,Cloud,100,2025-02-01\n",
        kind="subscriptions",
        name="subs.csv",
    )
    job = ImportJob.objects.get()
    client.post(f"/imports/{job.pk}/", {"action": "check", **{f"map_{k}": v for k, v in job.mapping.items()}})
    work()
    job.refresh_from_db()
    assert job.status == "failed" and job.result["shape"] == "ambiguous"
    page = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "Read as: Not clear: refused." in page
    assert "row 3, column Subscription ID: “S1” is also in row 2" in page
