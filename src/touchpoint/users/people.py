"""Writes about the people who use Touchpoint, made by admins in the app: invitations, roles,
deactivation, password resets, and what a person does with the one-time link they are emailed.

Every change is one transaction, checked before anything is written (a ValidationError names the
field), and audited with `record_audit`. Never a token or a password goes into the audit log.

A one-time link is a random 256-bit token; only its SHA-256 is stored (`SignInLink.token_hash`).
Invitations live `TOUCHPOINT_INVITATION_DAYS` (default 7); reset links Django's
`PASSWORD_RESET_TIMEOUT` (default 3 days). A new link for the same person and purpose voids the old.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from touchpoint.users.models import SignInLink, SignInLinkPurpose, User
from touchpoint.users.roles import Role
from touchpoint.users.services import record_audit, set_role


def hash_link_token(raw_token: str) -> str:
    # The token carries 256 bits of randomness: a fast hash is enough, there is nothing to brute-force.
    return hashlib.sha256(raw_token.encode()).hexdigest()


def invitation_lifetime() -> timedelta:
    return timedelta(days=int(getattr(settings, "TOUCHPOINT_INVITATION_DAYS", 7)))


def reset_lifetime() -> timedelta:
    return timedelta(seconds=int(settings.PASSWORD_RESET_TIMEOUT))


def link_url(raw_token: str) -> str:
    """The address a person opens, starting with TOUCHPOINT_BASE_URL."""
    return settings.TOUCHPOINT_BASE_URL + reverse("sign-in-link", kwargs={"token": raw_token})


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationError(
            {
                "role": _("Unknown role “%(role)s”; choose one of: %(choices)s.")
                % {"role": role, "choices": choices}
            }
        ) from None


def _language(language: str) -> str:
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError({"language": _("Choose one of the languages Touchpoint speaks.")})
    return language


def _new_link(*, user: User, purpose: str, actor: User | None) -> tuple[SignInLink, str]:
    """Void the person's open links of this purpose and make a new one. Returns it and its raw token."""
    now = timezone.now()
    SignInLink.objects.filter(
        user=user, purpose=purpose, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    raw = secrets.token_urlsafe(32)
    lifetime = invitation_lifetime() if purpose == SignInLinkPurpose.INVITE else reset_lifetime()
    link = SignInLink.objects.create(
        user=user,
        purpose=purpose,
        token_hash=hash_link_token(raw),
        created_by=actor if actor is not None and actor.pk else None,
        created_at=now,
        expires_at=now + lifetime,
    )
    return link, raw


def _lock_admins() -> None:
    """Lock the rows of the active admins, always in the same order, until the transaction ends:
    two admins demoting or deactivating each other at the same moment then take turns (the second
    sees the first's change) instead of leaving nobody, or deadlocking."""
    list(
        User.objects.select_for_update()
        .filter(is_active=True, groups__name=Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _active_admins_besides(user: User) -> int:
    """How many other active admins there are (call after `_lock_admins`)."""
    return User.objects.filter(is_active=True, groups__name=Role.ADMIN).exclude(pk=user.pk).count()


def _is_active_admin(user: User) -> bool:
    return user.is_active and user.groups.filter(name=Role.ADMIN).exists()


def is_invited(user: User) -> bool:
    """Not signed up yet: inactive, with an invitation neither used nor voided (it may have expired)."""
    return (
        not user.is_active
        and SignInLink.objects.filter(
            user=user, purpose=SignInLinkPurpose.INVITE, used_at__isnull=True, revoked_at__isnull=True
        ).exists()
    )


@transaction.atomic
def invite_user(
    *, email: str, role: Role | str, full_name: str = "", language: str = "", actor: User | None
) -> tuple[User, str]:
    """A new person, not active until they open the emailed link and set a password.

    Returns the user and the raw token of their link (for `send_link_email`; never stored)."""
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid email address.")
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = _("A user with this email address already exists.")
    if len(full_name) > 200:
        errors["full_name"] = _("Keep the name to 200 characters.")
    try:
        role = _role(role)
        language = _language(language)
    except ValidationError as error:
        errors.update({field: messages[0] for field, messages in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(email=email, password=None, full_name=full_name, is_active=False)
    user.language = language
    user.save(update_fields=["language"])
    set_role(user=user, role=role, actor=actor)
    link, raw = _new_link(user=user, purpose=SignInLinkPurpose.INVITE, actor=actor)
    record_audit(
        actor=actor,
        action="user.invite",
        instance=user,
        changes={"email": email, "role": Role(role).value, "expires_at": link.expires_at.isoformat()},
    )
    return user, raw


@transaction.atomic
def resend_invitation(*, user: User, actor: User | None) -> str:
    """A new invitation link for someone who has not accepted yet; the old link stops working."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active or not is_invited(user):
        raise ValidationError({"user": _("Only a pending invitation can be sent again.")})
    link, raw = _new_link(user=user, purpose=SignInLinkPurpose.INVITE, actor=actor)
    record_audit(
        actor=actor,
        action="user.invite_resend",
        instance=user,
        changes={"expires_at": link.expires_at.isoformat()},
    )
    return raw


@transaction.atomic
def change_role(*, user: User, role: Role | str, actor: User | None) -> User:
    """Give someone another role. The last active admin keeps theirs."""
    role = _role(role)
    _lock_admins()
    user = User.objects.select_for_update().get(pk=user.pk)
    before = user.role
    if before == role:
        return user
    if before == Role.ADMIN and user.is_active and _active_admins_besides(user) == 0:
        raise ValidationError({"role": _("This is the last active admin: make someone else an admin first.")})
    set_role(user=user, role=role, actor=actor)
    record_audit(
        actor=actor,
        action="user.role",
        instance=user,
        changes={"role": [before.value if before else None, role.value]},
    )
    user.__dict__.pop("role", None)  # the cached role
    return user


def end_sessions(user: User, *, keep: str | None = None) -> int:
    """Sign the person out everywhere (but the session whose key is `keep`): delete their stored
    sessions. Returns how many ended.

    With a session engine that stores no rows (signed cookies, cache), an inactive user is still
    turned away on their next request: Django's backend refuses inactive users."""
    engine = import_module(settings.SESSION_ENGINE)
    get_model = getattr(engine.SessionStore, "get_model_class", None)
    if get_model is None:
        return 0
    model = get_model()
    ended = [
        session.pk
        for session in model.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.pk != keep and str(session.get_decoded().get("_auth_user_id")) == str(user.pk)
    ]
    model.objects.filter(pk__in=ended).delete()
    return len(ended)


def end_sessions_of_deactivated(sender, instance: User, raw: bool = False, **kwargs) -> None:
    """pre_save of User: whoever sets is_active off (Django's admin, a shell, a fixture load aside)
    signs the person out everywhere, as deactivate_user does."""
    if raw or instance.pk is None or instance.is_active:
        return
    was_active = User.objects.filter(pk=instance.pk, is_active=True).exists()
    if was_active:
        end_sessions(instance)


@transaction.atomic
def deactivate_user(*, user: User, actor: User | None) -> User:
    """Stop someone from signing in: their sessions end, their API keys and open links stop working.
    Nothing of theirs is deleted (accounts they own keep them; the audit keeps their name)."""
    _lock_admins()
    user = User.objects.select_for_update().get(pk=user.pk)
    if actor is not None and actor.pk == user.pk:
        raise ValidationError({"user": _("You cannot deactivate yourself.")})
    if not user.is_active and not is_invited(user):
        return user
    if _is_active_admin(user) and _active_admins_besides(user) == 0:
        raise ValidationError({"user": _("This is the last active admin: make someone else an admin first.")})
    was_invited = is_invited(user)
    ended = end_sessions(user)  # before the save, whose signal would end them uncounted
    user.is_active = False
    user.save(update_fields=["is_active"])
    SignInLink.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    record_audit(
        actor=actor,
        action="user.deactivate",
        instance=user,
        changes={"invitation_voided": was_invited, "sessions_ended": ended},
    )
    return user


@transaction.atomic
def reactivate_user(*, user: User, actor: User | None) -> User:
    """Let a deactivated person sign in again (with the password they had; or send them a reset)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    if is_invited(user):
        raise ValidationError({"user": _("This person has not accepted their invitation yet.")})
    user.is_active = True
    user.save(update_fields=["is_active"])
    record_audit(actor=actor, action="user.reactivate", instance=user, changes={})
    return user


@transaction.atomic
def start_password_reset(*, user: User, actor: User | None) -> str:
    """A one-time link that lets the person choose a new password. The admin never sees a password."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise ValidationError({"user": _("Reactivate this person before resetting their password.")})
    link, raw = _new_link(user=user, purpose=SignInLinkPurpose.RESET, actor=actor)
    record_audit(
        actor=actor,
        action="user.password_reset",
        instance=user,
        changes={"expires_at": link.expires_at.isoformat()},
    )
    return raw


@dataclass(frozen=True)
class LinkState:
    """What a raw token is: the link (None when unknown) and one of valid, used, revoked, expired, unknown."""

    link: SignInLink | None
    state: str

    @property
    def usable(self) -> bool:
        return self.state == "valid"


def link_state(raw_token: str, *, lock: bool = False) -> LinkState:
    if not raw_token or len(raw_token) > 100:
        return LinkState(None, "unknown")
    rows = SignInLink.objects.select_related("user")
    if lock:
        rows = rows.select_for_update()
    link = rows.filter(token_hash=hash_link_token(raw_token)).first()
    if link is None:
        return LinkState(None, "unknown")
    if link.used_at is not None:
        return LinkState(link, "used")
    if link.revoked_at is not None:
        return LinkState(link, "revoked")
    if link.expires_at <= timezone.now():
        return LinkState(link, "expired")
    if link.purpose == SignInLinkPurpose.RESET and not link.user.is_active:
        return LinkState(link, "revoked")
    return LinkState(link, "valid")


def link_problem(state: str) -> str:
    """The sentence a person reads when their link does not work."""
    return {
        "unknown": _(
            "This link is not valid. Check that you copied all of it, or ask an admin for a new one."
        ),
        "used": _(
            "This link has already been used. Log in with your password, or ask an admin for a new link."
        ),
        "revoked": _(
            "This link has been replaced or withdrawn. Use the newest email, or ask an admin for a new link."
        ),
        "expired": _("This link has expired. Ask an admin to send you a new one."),
    }[state]


@transaction.atomic
def use_sign_in_link(*, raw_token: str, password: str) -> User:
    """Set the password a person chose through their link; an invitation also makes them active.
    The link then never works again, nor does any other open link of theirs."""
    found = link_state(raw_token, lock=True)
    if not found.usable or found.link is None:
        raise ValidationError({"token": link_problem(found.state)})
    link = found.link
    user = User.objects.select_for_update().get(pk=link.user_id)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    now = timezone.now()
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    link.used_at = now
    link.save(update_fields=["used_at"])
    SignInLink.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    action = "user.invite_accept" if link.purpose == SignInLinkPurpose.INVITE else "user.password_set"
    record_audit(actor=user, action=action, instance=user, changes={})
    return user


def send_link_email(*, user: User, raw_token: str, purpose: str, sender: User | None = None) -> None:
    """Email the person their link, in their language (the site's default when they have none).

    Raises what the mail backend raises (OSError, smtplib.SMTPException) when it cannot send."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        url = link_url(raw_token)
        who = sender.get_full_name() if sender is not None else "Touchpoint"
        if purpose == SignInLinkPurpose.INVITE:
            days = invitation_lifetime().days
            subject = _("You are invited to Touchpoint")
            body = _(
                "Hello %(name)s,\n\n%(who)s invites you to Touchpoint as %(role)s.\n\n"
                "Open this link to choose your password and sign in:\n%(url)s\n\n"
                "The link works once and expires in %(days)s days."
            ) % {
                "name": user.get_short_name(),
                "who": who,
                "role": user.role.label if user.role else "",
                "url": url,
                "days": days,
            }
        else:
            hours = max(1, int(reset_lifetime().total_seconds() // 3600))
            subject = _("Choose a new Touchpoint password")
            body = _(
                "Hello %(name)s,\n\n%(who)s asked Touchpoint to let you choose a new password.\n\n"
                "Open this link to set it and sign in:\n%(url)s\n\n"
                "The link works once and expires in %(hours)s hours. Until you use it, your old password still works."
            ) % {"name": user.get_short_name(), "who": who, "url": url, "hours": hours}
        send_mail(str(subject), str(body), settings.DEFAULT_FROM_EMAIL, [user.email])
