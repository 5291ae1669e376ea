from django.urls import path

from touchpoint.users import access_views, two_factor, views

urlpatterns = [
    path("my-settings/", views.my_settings, name="my-settings"),
    path("my-settings/api-keys/", access_views.create_my_api_key, name="my-api-key-create"),
    path(
        "my-settings/api-keys/<int:key_id>/revoke/", access_views.revoke_my_api_key, name="my-api-key-revoke"
    ),
    path("locked-sign-ins/", access_views.locked_sign_ins, name="locked-sign-ins"),
    path("two-factor/", two_factor.setup, name="two-factor-setup"),
    path("two-factor/verify/", two_factor.verify, name="two-factor-verify"),
]
