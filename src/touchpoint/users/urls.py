from django.urls import path

from touchpoint.users import access_views, audit_views, people_views, two_factor, views

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
    path(
        "people/<int:user_id>/two-factor/reset/",
        people_views.person_reset_two_factor,
        name="person-reset-two-factor",
    ),
    path("people/<int:user_id>/resend-invitation/", people_views.person_resend, name="person-resend"),
    path("welcome/<str:token>/", people_views.sign_in_link, name="sign-in-link"),
    path("audit/", audit_views.audit_page, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit-csv"),
    path("my-settings/api-keys/", access_views.create_my_api_key, name="my-api-key-create"),
    path(
        "my-settings/api-keys/<int:key_id>/revoke/", access_views.revoke_my_api_key, name="my-api-key-revoke"
    ),
    path("locked-sign-ins/", access_views.locked_sign_ins, name="locked-sign-ins"),
    path("two-factor/", two_factor.setup, name="two-factor-setup"),
    path("two-factor/verify/", two_factor.verify, name="two-factor-verify"),
]
