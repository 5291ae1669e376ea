"""The blocklist's hash is Django's salted HMAC, computed with a key made once per secret."""

from django.utils.crypto import salted_hmac
from hypothesis import given
from hypothesis import strategies as st

from touchpoint.privacy.hashing import digest


@given(value=st.text(max_size=300), secret=st.sampled_from([None, "old-secret", "ключ-秘密"]))
def test_the_digest_is_salted_hmac_of_the_normalised_value(value, secret):
    expected = salted_hmac(
        "touchpoint.privacy", value.strip().lower(), secret=secret, algorithm="sha256"
    ).hexdigest()
    assert digest(value, secret=secret) == expected
