"""What a web or worker process loads before anyone asks for a chart, a forecast or a back-test.

Altair (with pandas), lifelines (with scipy) and scikit-learn cost each process well over 100 MB and
a second or more at start. Only a few pages use them, so they are imported where they are used; a
worker that only takes in events or runs rollups never loads them. A top-level import anywhere under
the URLconf or the worker brings them back; this test names the module that did.
"""

import subprocess
import sys
import textwrap

HEAVY = ("altair", "vl_convert", "pandas", "lifelines", "scipy", "sklearn")

PROGRAM = textwrap.dedent(f"""
    import os, sys
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchpoint.settings")
    import django
    django.setup()
    from django.core.management import load_command_class
    from django.urls import get_resolver
    get_resolver().url_patterns  # every view module, as the first request of a web worker loads them
    load_command_class("touchpoint.scheduler", "worker")
    load_command_class("touchpoint.web", "serve")
    print(" ".join(name for name in {HEAVY!r} if name in sys.modules))
""")


def test_urls_and_worker_load_without_the_analytics_libraries(tmp_path):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TOUCHPOINT_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    loaded = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROGRAM],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    heavy = loaded.stdout.split()
    assert not heavy, f"loaded at start: {heavy}, imported by {_importer(loaded.stderr, heavy)}"


def _importer(import_tree: str, heavy: list[str]) -> str:
    """Who first pulled one in: -X importtime lists a module, indented, just before the one that imported it."""
    rows = [line.rsplit("|", 1)[-1] for line in import_tree.splitlines() if line.startswith("import time:")]
    depth_and_name = [(len(row) - len(row.lstrip()), row.strip()) for row in rows]
    first = next(i for i, (_depth, name) in enumerate(depth_and_name) if name.split(".")[0] in heavy)
    depth = depth_and_name[first][0]
    for row_depth, name in depth_and_name[first:]:
        if row_depth < depth:
            if name.startswith("touchpoint."):
                return name
            depth = row_depth
    return "?"
