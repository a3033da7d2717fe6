from django.urls import include, path

from . import views, views_imports

app_name = "accounts"

urlpatterns = [
    path("", views.book, name="book"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("imports/", views_imports.imports_index, name="imports"),
    path("imports/positions/", views_imports.positions_import, name="import_positions"),
    path("imports/accounts/", views_imports.accounts_import, name="import_accounts"),
    path("", include("accounts.urls_activities")),
    path("", include("accounts.urls_pipeline")),
]
