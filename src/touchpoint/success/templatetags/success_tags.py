from django import template

from touchpoint.success.services import placement_of

register = template.Library()


@register.filter
def placement(account):
    """The account's placement in a success framework, or None."""
    return placement_of(account)


@register.simple_tag
def phase_form(account):
    """The header's "change phase" form for the account, showing its current phase."""
    from touchpoint.success.forms import PhaseForm

    return PhaseForm(account=account)
