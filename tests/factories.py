"""factory_boy factories for tests: real rows in the real database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from touchpoint.accounts.models import Account, Contact, ContactRoleAssignment, Engagement, Segment
from touchpoint.success.models import AccountPlacement, LifecyclePhase, SuccessFramework
from touchpoint.users.models import User
from touchpoint.users.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs) -> None:
        if not create:
            return
        role = Role(extracted or Role.CSM)
        self.groups.add(Group.objects.get(name=role.value))
        self.is_staff = self.is_superuser = role == Role.ADMIN
        self.save()


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment
        django_get_or_create = ("name",)

    name = factory.Iterator(["Enterprise", "Mid-market", "SMB"])
    tier = factory.Sequence(lambda n: n % 3 + 1)


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuccessFramework
        django_get_or_create = ("name",)

    name = "Standard"
    is_default = True


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LifecyclePhase
        django_get_or_create = ("framework", "name")

    framework = factory.SubFactory(FrameworkFactory)
    name = factory.Iterator(["Onboarding", "First use", "Adoption", "Renewal"])
    position = factory.Sequence(lambda n: n)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"customer{n}.example.com")
    external_id = factory.Sequence(lambda n: f"acc-{n}")
    owner = factory.SubFactory(UserFactory)
    segment = factory.SubFactory(SegmentFactory)

    # `phase=` / `framework=` place the account (success.AccountPlacement), as the success app would.
    @factory.post_generation
    def phase(self, create: bool, extracted: LifecyclePhase | None, **kwargs) -> None:
        if create and extracted is not None:
            AccountPlacement.objects.update_or_create(
                account=self, defaults={"framework": extracted.framework, "phase": extracted}
            )

    @factory.post_generation
    def framework(self, create: bool, extracted: SuccessFramework | None, **kwargs) -> None:
        if create and extracted is not None:
            AccountPlacement.objects.update_or_create(account=self, defaults={"framework": extracted})


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example.com")
    title = "Head of Operations"

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        if create and extracted:
            ContactRoleAssignment.objects.bulk_create(
                [ContactRoleAssignment(contact=self, role=role) for role in extracted]
            )


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    account = factory.SubFactory(AccountFactory)
    kind = "note"
    subject = factory.Faker("sentence", nb_words=5)
    body = factory.Faker("paragraph")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A subscription row without movements; use revenue.services to get its history too."""

    class Meta:
        model = "revenue.Subscription"

    account = factory.SubFactory(AccountFactory)
    product = "Touchpoint Cloud"
    plan = "Team"
    quantity = 10
    mrr = Decimal("1000.00")
    currency = "USD"
    started_on = factory.LazyFunction(lambda: date(2025, 1, 1))
