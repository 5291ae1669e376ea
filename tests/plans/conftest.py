from __future__ import annotations

from datetime import date

import pytest

from tests.factories import ContactFactory, FrameworkFactory
from touchpoint.success.models import AccountPlacement, MilestoneDefinition

TEMPLATE = {
    "objectives": [
        {
            "text": "Cut the time to close the month",
            "kpis": [
                {"name": "Days to close", "unit": "days", "baseline": "10", "target": "5", "due_in_days": 90}
            ],
        }
    ],
    "milestones": [
        {"title": "Kick-off held", "due_in_days": 14},
        {"title": "First report shared", "due_in_days": 30, "milestone": "first-report"},
    ],
}
TODAY = date(2026, 3, 1)


@pytest.fixture
def framework(db):
    framework = FrameworkFactory(name="Standard", key="standard", plan_template=TEMPLATE)
    MilestoneDefinition.objects.create(
        framework=framework, key="first-report", name="First report created", rule={"event": "report_created"}
    )
    return framework


@pytest.fixture
def placed(account, framework):
    AccountPlacement.objects.create(account=account, framework=framework)
    return account


@pytest.fixture
def champion(account):
    return ContactFactory(account=account, name="Aiko Tanaka", language="ja")
