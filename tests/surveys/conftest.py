from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from tests.factories import ContactFactory
from tests.journeys.delivery_support import Inbox, free_port
from touchpoint.journeys.models import DeliverySettings
from touchpoint.surveys import services


@pytest.fixture
def survey(db):
    return services.create_survey(
        name="Quarterly NPS",
        key="nps",
        kind="nps",
        texts={
            "en": {"question": "How likely are you to recommend Acme?"},
            "ru": {"question": "Насколько вероятно, что вы порекомендуете Acme?", "follow_up": "Почему?"},
        },
    )


@pytest.fixture
def contact(account):
    return ContactFactory(account=account, name="Ann Lee", email="ann@example.com")


@pytest.fixture
def smtp(settings, db):
    """A real SMTP server on 127.0.0.1 (aiosmtpd); journeys' sender delivers to it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.TOUCHPOINT_BASE_URL = "https://cs.example.com"
    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}
    )
    yield inbox
    controller.stop()
