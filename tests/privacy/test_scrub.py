"""The text scrubber erasure relies on: every needle gone, text without one untouched."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from touchpoint.privacy.registry import MIN_TEXT_NEEDLE, Person

needle = st.text(
    alphabet=string.ascii_letters + string.digits + "@.+- ", min_size=MIN_TEXT_NEEDLE, max_size=20
).filter(lambda s: len(s.strip()) >= MIN_TEXT_NEEDLE)
filler = st.text(alphabet=string.ascii_letters + " ,.\n", max_size=40)


@given(name=needle, before=filler, after=filler, upper=st.booleans())
def test_a_needle_is_replaced_wherever_it_sits(name, before, after, upper):
    person = Person(email="x@example.org", names={name})
    text = before + (name.upper() if upper else name) + after
    scrubbed = person.scrub({"note": [text], text: 1}, "PSEUDONYM")
    assert (
        name.strip().lower() not in str(scrubbed).lower().replace("pseudonym", "")
        or name.strip().lower() in "pseudonym"
    )
    assert "PSEUDONYM" in scrubbed["note"][0]


@given(text=filler)
def test_text_without_a_needle_is_left_as_it_was(text):
    person = Person(email="zebulon@example.org", names={"Zebulon Quaxley"}, phones={"+1 555 0199"})
    assert person.scrub(text, "P") == text
    assert person.scrub({"a": [text, 3, None]}, "P") == {"a": [text, 3, None]}


def test_short_needles_are_not_searched_in_text():
    person = Person(email="a@b.co", user_ids={"42"}, names={"Al"})
    assert person.scrub("Al has 42 seats", "P") == "Al has 42 seats"
    assert person.scrub("mail a@b.co", "P") == "mail P"
