from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from org import views as org_views

admin.site.site_header = "Flightpath back office"
admin.site.site_title = "Flightpath admin"

urlpatterns = [
    path("", org_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("", include("org.urls")),
    path("planning/", include("planning.urls")),
    path("coaching/", include("coaching.urls")),
    path("retention/", include("retention.urls")),
    # Customers rate their RM here without a login: the signed link is the only key.
    path("survey/", include(("coaching.urls_survey", "survey"))),
    path("api/v1/", include(("salesmgmt.api_urls", "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/docs/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
        name="api-redoc",
    ),
    path("admin/", admin.site.urls),
]

# A URL under /api/ that no route matches answers JSON like the rest of the API.
handler404 = "salesmgmt.api.not_found"
