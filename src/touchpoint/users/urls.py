from django.urls import path

from touchpoint.users import access_views, two_factor, views

urlpatterns = [
    path("my-settings/", views.my_settings, name="my-settings"),
    path("locked-sign-ins/", access_views.locked_sign_ins, name="locked-sign-ins"),
    path("two-factor/", two_factor.setup, name="two-factor-setup"),
    path("two-factor/verify/", two_factor.verify, name="two-factor-verify"),
]
