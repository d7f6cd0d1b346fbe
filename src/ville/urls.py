"""Root URL map: unprefixed machine endpoints, then the pages under a language prefix."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.i18n import set_language

from ville.accounts.admin_site import admin_site
from ville.core.api import api
from ville.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
]

urlpatterns += i18n_patterns(
    path("", include("ville.core.urls")),
    path("", include("ville.accounts.urls")),
    path("", include("ville.territory.urls")),
    path("", include("ville.procedures.urls")),
    path("espace/", include("ville.dashboard.urls")),
    path("gestion/", admin_site.urls),
    prefix_default_language=True,
)

handler400 = "ville.core.views.bad_request"
handler403 = "ville.core.views.permission_denied"
handler404 = "ville.core.views.page_not_found"
handler500 = "ville.core.views.server_error"
