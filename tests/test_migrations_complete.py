"""Every model change has its migration: a field or index changed without one would reach users' databases
only as a surprise (or never)."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db  # makemigrations checks the applied history against the files
def test_no_model_change_is_missing_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, stdout=out, stderr=out)
    except SystemExit as missing:  # --check exits non-zero when a migration would be written
        raise AssertionError(f"models changed without a migration:\n{out.getvalue()}") from missing
