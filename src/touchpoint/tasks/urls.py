from django.urls import path

from touchpoint.tasks import views

urlpatterns = [
    path("tasks/", views.tasks_page, name="tasks"),
    path("tasks/<int:task_id>/", views.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task-complete"),
    path("tasks/<int:task_id>/cancel/", views.task_cancel, name="task-cancel"),
    path("accounts/<int:account_id>/tasks/", views.account_tasks, name="account-tasks"),
]
