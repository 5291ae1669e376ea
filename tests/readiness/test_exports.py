"""A map out of Touchpoint, through its download links: CSV for a spreadsheet (every touchpoint, each of
its questions a row, text that looks like a formula kept as text), PDF for a launch review (the map's
name, its grid and its open gaps), YAML that applies back to the same statuses and answers; and none
of them writes to the database."""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import UserFactory
from tests.readiness.shapes import BUY, CONTRACT, LEGAL, MARKETING, PRICING_PAGE, STATUS_PAGE, USE
from touchpoint.readiness import documents, services
from touchpoint.readiness.models import ChecklistItem, ReadinessMap, Status, Touchpoint
from touchpoint.readiness.structure import MapShape
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db

SHAPE = MapShape(
    key="launch",
    name="Launch",
    stages=(BUY, USE),
    functions=(MARKETING, LEGAL),
    touchpoints=(
        PRICING_PAGE,
        CONTRACT,
        STATUS_PAGE,
    ),
)

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


@pytest.fixture
def pm(db):
    return UserFactory(role=Role.CSM, email="pm@example.com", full_name="Pat Manager")


@pytest.fixture
def launch(pm) -> ReadinessMap:
    """Pricing page: Pat's, one yes of two, late (a gap). Contract: ready, with evidence. Status page: a
    gap set by hand with its reason."""
    readiness_map = services.create_map(
        name="Cloud launch", product="Cloud", launch_on=date(2027, 3, 1), actor=pm, start_from=SHAPE
    )
    pricing = readiness_map.touchpoints.get(key="pricing-page")
    services.update_touchpoint(
        touchpoint=pricing, owner=pm, due_on=timezone.localdate() - timedelta(days=2), actor=pm
    )
    services.answer_question(
        item=pricing.checklist.first(), answer="yes", evidence_url="https://example.com/pricing", actor=pm
    )
    contract = readiness_map.touchpoints.get(key="contract")
    services.answer_question(
        item=contract.checklist.get(), answer="yes", note="Signed off by legal", actor=pm
    )
    services.set_status_by_hand(
        touchpoint=readiness_map.touchpoints.get(key="status-page"),
        status="gap",
        reason="Nobody hosts it yet",
        actor=pm,
    )
    return readiness_map


def _get(client, readiness_map: ReadinessMap, extension: str):
    response = client.get(f"/readiness/{readiness_map.pk}/export.{extension}")
    assert response.status_code == 200, response.content[:500]
    disposition = response["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="readiness-{readiness_map.key}-')
    assert disposition.endswith(f'.{extension}"')
    return response


# --- CSV --------------------------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheet programs read UTF-8 right with it
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_csv_has_a_header_and_every_touchpoint_with_each_of_its_questions(launch, pm, viewer):
    header, *rows = _csv_rows(_get(logged_in_client(viewer), launch, "csv"))
    assert header == [
        "Stage",
        "Function",
        "Touchpoint",
        "Status",
        "Status set by hand",
        "Reason",
        "Owner",
        "Due date",
        "Question",
        "Answer",
        "Evidence link",
        "Note",
        "Confirmed by",
        "Confirmed at",
    ]
    assert all(len(row) == len(header) for row in rows)
    by_touchpoint: dict[str, list[list[str]]] = {}
    for row in rows:
        by_touchpoint.setdefault(row[2], []).append(row)
    # Every touchpoint is there: one row per question, one row for a touchpoint without any.
    assert {name: len(found) for name, found in by_touchpoint.items()} == {
        "Pricing page": 2,
        "Contract": 1,
        "Status page": 1,
    }
    first, second = by_touchpoint["Pricing page"]
    assert first[:4] == ["Able to buy it", "Marketing", "Pricing page", "Gap"]
    assert first[6:11] == [
        "Pat Manager",
        (timezone.localdate() - timedelta(days=2)).isoformat(),
        "Every plan shown?",
        "Yes",
        "https://example.com/pricing",
    ]
    assert first[12] == "Pat Manager" and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", first[13])
    assert second[8:] == ["Prices in every currency?", "Not answered", "", "", "", ""]
    (contract,) = by_touchpoint["Contract"]
    assert contract[3] == "Ready" and contract[11] == "Signed off by legal"
    (status_page,) = by_touchpoint["Status page"]
    assert status_page[3:6] == ["Gap", "yes", "Nobody hosts it yet"] and status_page[8:] == [""] * 6


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")'])
def test_text_that_looks_like_a_formula_is_kept_as_text(launch, pm, viewer, name):
    # A spreadsheet program runs a cell that starts with = + - @ as a formula: typed text must not.
    touchpoint = services.add_touchpoint(
        readiness_map=launch,
        stage=launch.stages.get(key="use"),
        function=launch.functions.get(key="marketing"),
        name=name,
        questions=[name],
        actor=pm,
    )
    services.answer_question(item=touchpoint.checklist.get(), answer="no", note=name, actor=pm)
    services.rename_row(row=launch.stages.get(key="use"), name=name, actor=pm)
    _header, *rows = _csv_rows(_get(logged_in_client(viewer), launch, "csv"))
    (row,) = [row for row in rows if row[2] == "'" + name]
    assert row[0] == "'" + name and row[8] == "'" + name and row[11] == "'" + name
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_csv_is_in_the_readers_language(launch, viewer):
    response = logged_in_client(viewer).get(f"/readiness/{launch.pk}/export.csv", HTTP_ACCEPT_LANGUAGE="ja")
    header = _csv_rows(response)[0]
    assert header[0] != "Stage" and all(cell for cell in header)


# --- PDF --------------------------------------------------------------------------------------------


def _cmap(program: bytes) -> dict[int, str]:
    """A ToUnicode CMap: glyph code → text."""
    found: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", program, re.S):
        for code, text in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            found[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", program, re.S):
        for first, last, text in re.findall(
            rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            start = int(text, 16)
            for offset, code in enumerate(range(int(first, 16), int(last, 16) + 1)):
                found[code] = chr(start + offset)
    return found


def _pdf_streams(pdf: bytes) -> dict[int, bytes]:
    """Every stream of the PDF by object number, inflated (the dictionaries are in an object stream)."""
    streams: dict[int, bytes] = {}
    for found in re.finditer(rb"(\d+) 0 obj\s*<<([^>]*?)>>\s*stream\r?\n", pdf):
        # The stream is as long as its dictionary says: searching for "endstream" instead cut off a
        # last byte that happened to be a carriage return, and the stream no longer inflated.
        length = re.search(rb"/Length (\d+)(?! \d+ R)", found.group(2))
        start = found.end()
        raw = (
            pdf[start : start + int(length.group(1))]
            if length
            else pdf[start : pdf.index(b"endstream", start)]
        )
        try:
            streams[int(found.group(1))] = zlib.decompress(raw)
        except zlib.error:
            streams[int(found.group(1))] = raw
    return streams


def _pdf_title(pdf: bytes) -> str:
    """The title in the document's information: (text) when ASCII, <hex> in UTF-16 otherwise."""
    objects = b"\n".join(_pdf_streams(pdf).values())
    found = re.search(rb"/Producer \(WeasyPrint[^)]*\)/Title (?:\((.*?)\)|<([0-9a-fA-F]+)>)", objects)
    assert found is not None
    literal, hexadecimal = found.groups()
    return (
        literal.decode("latin-1")
        if literal is not None
        else bytes.fromhex(hexadecimal.decode()).decode("utf-16")
    )


def _pdf_text(pdf: bytes) -> str:
    """The text a PDF shows, in the order it is drawn (no PDF library is installed: WeasyPrint's PDFs
    name each font by its subset tag and map its two-byte glyph codes to text with a ToUnicode CMap)."""
    streams = _pdf_streams(pdf)
    dictionaries = b"\n".join(streams.values())
    fonts = {
        tag.decode(): _cmap(streams[int(to_unicode)])
        for tag, to_unicode in re.findall(rb"/BaseFont /(\w+)\+[^/]*/ToUnicode (\d+) 0 R", dictionaries)
    }
    lines = []
    for program in streams.values():
        if b" Tf" not in program:
            continue
        font: dict[int, str] = {}
        for name, shown in re.findall(rb"/(\w+) [\d.]+ Tf|(\[.*?\] ?TJ|<[0-9a-fA-F]*> ?Tj)", program, re.S):
            if name:
                font = fonts.get(name.decode(), {})
                continue
            codes = "".join(part.decode() for part in re.findall(rb"<([0-9a-fA-F]*)>", shown))
            lines.append("".join(font.get(int(codes[i : i + 4], 16), "") for i in range(0, len(codes), 4)))
    return " ".join(" ".join(lines).split())


def test_the_pdf_holds_the_maps_name_its_grid_and_its_open_gaps(launch, viewer):
    response = _get(logged_in_client(viewer), launch, "pdf")
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    assert _pdf_title(pdf) == "Cloud launch"  # the document's title, as PDF readers show it
    text = _pdf_text(pdf)
    assert text.startswith("Cloud launch"), text[:200]
    grid, open_part = text.split("Open gaps and risks", 1)
    assert "Contract" in grid and "Pricing page" in grid and "Status page" in grid
    # The open ones, worst first, with who answers and why; the ready contract is not among them.
    assert "Pricing page" in open_part and "Pat Manager" in open_part and "Overdue" in open_part
    assert "Status page" in open_part and "Nobody hosts it yet" in open_part and "Nobody named" in open_part
    assert "Contract" not in open_part


def test_the_pdf_of_a_map_in_japanese_holds_its_japanese_text(pm, viewer):
    readiness_map = services.create_map(name="クラウド日本展開", actor=pm, start_from=SHAPE)
    services.update_touchpoint(
        touchpoint=readiness_map.touchpoints.get(key="contract"), name="契約書", actor=pm
    )
    pdf = _get(logged_in_client(viewer), readiness_map, "pdf").content
    assert _pdf_title(pdf) == "クラウド日本展開"
    text = _pdf_text(pdf)
    assert "クラウド日本展開" in text and "契約書" in text.split("Open gaps and risks", 1)[1]


# --- YAML -------------------------------------------------------------------------------------------


def _answers_and_statuses(readiness_map: ReadinessMap) -> dict[str, object]:
    return {
        "touchpoints": sorted(
            Touchpoint.objects.filter(map=readiness_map).values_list(
                "key", "status", "status_by_hand", "status_reason", "owner__email", "due_on"
            )
        ),
        "answers": sorted(
            ChecklistItem.objects.filter(touchpoint__map=readiness_map).values_list(
                "touchpoint__key", "question", "answer", "note", "evidence_url"
            )
        ),
    }


def test_the_yaml_applies_back_to_the_same_statuses_and_answers(launch, pm, viewer):
    response = _get(logged_in_client(viewer), launch, "yaml")
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    text = response.content.decode("utf-8")
    assert documents.problems_of(text) == []
    before = _answers_and_statuses(launch)
    # Applied as it is, it changes nothing.
    assert documents.apply_text(text, actor=pm) == launch
    assert _answers_and_statuses(launch) == before
    # After answers and statuses change, applying it brings them back.
    for item in ChecklistItem.objects.filter(touchpoint__map=launch):
        services.answer_question(item=item, answer="no", actor=pm)
    services.clear_status_by_hand(touchpoint=launch.touchpoints.get(key="status-page"), actor=pm)
    services.set_status_by_hand(
        touchpoint=launch.touchpoints.get(key="contract"), status="not_applicable", reason="x", actor=pm
    )
    assert _answers_and_statuses(launch) != before
    documents.apply_text(text, actor=pm)
    assert _answers_and_statuses(launch) == before
    assert launch.touchpoints.get(key="contract").status == Status.READY


def test_what_applying_the_yaml_changed_is_in_each_touchpoints_history(launch, pm, viewer):
    # A touchpoint's history says every change (docs/readiness.md), applied texts included.
    text = _get(logged_in_client(viewer), launch, "yaml").content.decode("utf-8")
    contract = launch.touchpoints.get(key="contract")
    services.answer_question(item=contract.checklist.get(), answer="no", actor=pm)
    documents.apply_text(text, actor=pm)
    applied = AuditLogEntry.objects.filter(action="readiness.applied")
    assert list(applied.values_list("object_type", "object_id", "actor")) == [
        ("readiness.touchpoint", str(contract.pk), pm.pk)
    ]
    page = logged_in_client(viewer).get(f"/readiness/touchpoints/{contract.pk}/")
    assert "changed by applying the map's text" in [words for _entry, words in page.context["page"].history]
    # Applying it again changes nothing, and says nothing.
    documents.apply_text(text, actor=pm)
    assert applied.count() == 1


def test_the_yaml_makes_the_same_map_again_where_it_is_gone(launch, pm, viewer):
    text = _get(logged_in_client(viewer), launch, "yaml").content.decode("utf-8")
    before = _answers_and_statuses(launch)
    launch.delete()
    again = documents.apply_text(text, actor=pm)
    assert (
        again.key == "cloud-launch" and again.name == "Cloud launch" and again.launch_on == date(2027, 3, 1)
    )
    assert _answers_and_statuses(again) == before


# --- exports are reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["csv", "pdf", "yaml"])
def test_an_export_writes_only_its_audit_entry(launch, viewer, extension):
    client = logged_in_client(viewer)
    client.get("/readiness/")  # the session is in place before we listen
    with CaptureQueriesContext(connection) as queries:
        _get(client, launch, extension)
    writes = [query["sql"] for query in queries.captured_queries if WRITE.match(query["sql"])]
    # Every download is recorded in the audit log (touchpoint.users.audit.record_export), nothing else.
    assert len(writes) == 1 and "users_auditlogentry" in writes[0]


@pytest.mark.parametrize("extension", ["csv", "pdf", "yaml"])
def test_exports_need_a_signed_in_reader_and_a_map_that_exists(launch, client, viewer, extension):
    signed_out = client.get(f"/readiness/{launch.pk}/export.{extension}")
    assert signed_out.status_code == 302 and "login" in signed_out["Location"]
    assert logged_in_client(viewer).get(f"/readiness/999999/export.{extension}").status_code == 404
    assert logged_in_client(viewer).post(f"/readiness/{launch.pk}/export.{extension}").status_code == 405
