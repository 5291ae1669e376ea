"""Tasks the scheduler tests enqueue (a task must live at module level to be found by the worker)."""

from django_tasks import task


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def nightly() -> str:
    return "ran"
