"""The staff admin site, reachable only after a TOTP check (django-otp's OTPAdminSite)."""

from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class VilleAdminSite(OTPAdminSite):
    site_header = _("Ville Intelligente — administration")
    site_title = _("Ville Intelligente administration")
    index_title = _("Administration")


admin_site = VilleAdminSite(name="admin")
