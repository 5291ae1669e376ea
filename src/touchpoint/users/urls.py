from django.urls import path

from touchpoint.users import audit_views, people_views, views

urlpatterns = [
    path("my-settings/", views.my_settings, name="my-settings"),
    path("people/", people_views.people_list, name="people"),
    path("people/invite/", people_views.invite, name="people-invite"),
    path("people/<int:user_id>/", people_views.person, name="person"),
    path("people/<int:user_id>/role/", people_views.person_role, name="person-role"),
    path("people/<int:user_id>/deactivate/", people_views.person_deactivate, name="person-deactivate"),
    path("people/<int:user_id>/reactivate/", people_views.person_reactivate, name="person-reactivate"),
    path(
        "people/<int:user_id>/reset-password/",
        people_views.person_reset_password,
        name="person-reset-password",
    ),
    path("people/<int:user_id>/resend-invitation/", people_views.person_resend, name="person-resend"),
    path("welcome/<str:token>/", people_views.sign_in_link, name="sign-in-link"),
    path("audit/", audit_views.audit_page, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit-csv"),
]
