from django.urls import path

from touchpoint.playbooks import views

urlpatterns = [
    path("accounts/<int:account_id>/playbooks/", views.account_playbooks, name="account-playbooks"),
    path("playbooks/", views.playbooks_page, name="playbooks"),
    path("playbooks/rules/<int:rule_id>/", views.change_rule, name="playbook-rule"),
    path("playbooks/<int:playbook_id>/export.yaml", views.export_playbook, name="playbook-export"),
]
