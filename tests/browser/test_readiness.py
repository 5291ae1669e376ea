"""The readiness map in a real browser (issue 15's "done when"): a product manager creates a map from
the shipped template, answers a touchpoint's checklist so its cell turns ready, marks another
touchpoint a gap by hand, assigns it to a colleague, makes it a task for them and exports the map as
a PDF for the launch review. In English and in Thai (the template's texts come in the reader's
language)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import UserFactory
from touchpoint.readiness.models import ReadinessMap, Status, Touchpoint
from touchpoint.tasks.models import Task
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

# The template's names of the touchpoints the test works on, by language.
PRICING_PAGE = {"en": "Pricing page", "th": "หน้าราคา"}


@pytest.mark.parametrize("language", ["en", "th"])
def test_a_product_manager_maps_a_launch_closes_a_cell_marks_a_gap_and_exports(
    page, live_server, log_in, language
):
    manager = UserFactory(role=Role.CSM, email="pm@example.com", full_name="Rachel Adams")
    colleague = UserFactory(role=Role.VIEWER, email="legal@example.com", full_name="Sarah Klein")
    log_in(page, manager)
    if language != "en":
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])

    # A new map for a launch, from the template.
    page.goto(f"{live_server.url}/readiness/")
    page.locator("#new-map").click()
    form = page.locator("#new-map-form")
    form.locator("input[name=name]").fill(f"Billing v2 ({language})")
    form.locator("select[name=kind]").select_option("release")
    form.locator("input[name=product]").fill("Touchpoint Cloud")
    form.locator("button[type=submit]").click()
    readiness_map = ReadinessMap.objects.get(name=f"Billing v2 ({language})")
    expect(page).to_have_url(f"{live_server.url}/readiness/{readiness_map.pk}/")
    if language != "en":
        expect(page.locator("html")).to_have_attribute("lang", language)
    grid = page.locator("#readiness-grid")
    expect(grid.locator("thead th")).to_have_count(1 + readiness_map.stages.count())
    pricing = readiness_map.touchpoints.get(key="pricing-page")
    assert pricing.name == PRICING_PAGE[language]
    cell = grid.locator(f"td[data-stage='{pricing.stage.key}'][data-function='{pricing.function.key}']")
    expect(cell).to_have_class("rd-cell rd-cell-gap")  # nothing answered yet

    # Answer every question of the pricing page "yes": it is ready, and so is its cell.
    cell.locator(f"#tp-{pricing.key} a").click()
    expect(page).to_have_url(f"{live_server.url}/readiness/touchpoints/{pricing.pk}/")
    for item in pricing.checklist.order_by("position"):
        question = page.locator(f"#question-{item.pk}")
        question.locator("select[name$=-answer]").select_option("yes")
        if item.position == 0:
            question.locator("input[name$=-evidence_url]").fill("https://example.com/pricing")
        question.locator("button[type=submit]:not([value=remove-question])").click()
        expect(page.locator(f"#question-{item.pk}")).to_have_class("rd-question rd-answer-yes")
    expect(page.locator(".page-head .rd-status")).to_have_class("rd-status rd-ready")
    page.locator(".breadcrumb a").nth(1).click()
    expect(grid.locator(f"#tp-{pricing.key}")).to_have_attribute("data-status", Status.READY)
    cells_with_only_it = Touchpoint.objects.filter(
        map=readiness_map, stage=pricing.stage, function=pricing.function
    ).count()
    if cells_with_only_it == 1:
        expect(cell).to_have_class("rd-cell rd-cell-ready")

    # Mark the contract terms a gap by hand, with the reason, and give it to legal.
    contract = readiness_map.touchpoints.get(key="contract-terms")
    page.goto(f"{live_server.url}/readiness/touchpoints/{contract.pk}/")
    status = page.locator("#status")
    status.locator("select[name=status-status]").select_option(Status.GAP)
    status.locator("input[name=status-reason]").fill("The reseller terms are not written")
    status.locator("button[type=submit]").first.click()
    expect(page.locator("#status-reason")).to_have_text("The reseller terms are not written")
    page.locator("#touchpoint-details summary").click()
    details = page.locator("#touchpoint-details")
    details.locator("select[name=details-owner]").select_option(str(colleague.pk))
    due = timezone.localdate() + timedelta(days=7)
    details.locator("input[name=details-due_on]").fill(due.isoformat())
    details.locator("button.primary").click()
    expect(page.locator("#answerer")).to_have_text("Sarah Klein")

    # A task for her, linking back.
    page.locator("#task input[name=task-due_on]").fill(due.isoformat())
    page.locator("#task button[type=submit]").click()
    expect(page.locator("#task a")).to_be_visible()
    task = Task.objects.get(owner=colleague)
    assert task.about_url == f"/readiness/touchpoints/{contract.pk}/" and task.due_on == due
    page.locator("#task a").click()
    expect(page.locator(f"a[href='/readiness/touchpoints/{contract.pk}/']").first).to_be_visible()

    # The map shows the gap, its owner and the reason among the open ones; then the PDF.
    page.goto(f"{live_server.url}/readiness/{readiness_map.pk}/?status=gap")
    open_rows = page.locator("#open-touchpoints")
    expect(open_rows).to_contain_text("The reseller terms are not written")
    expect(open_rows).to_contain_text("Sarah Klein")
    with page.expect_download() as download_info:
        page.locator("#export-pdf").click()
    pdf = download_info.value
    assert pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"
