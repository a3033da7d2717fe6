"""Sales campaigns and their prequalified lists."""

from django.urls import path

from .views import campaigns as views

urlpatterns = [
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/build/", views.campaign_build, name="campaign_build"),
    path("campaigns/<int:pk>/import/", views.campaign_import, name="campaign_import"),
    path(
        "campaigns/<int:pk>/accounts/<int:account_pk>/remove/",
        views.campaign_remove_account,
        name="campaign_remove_account",
    ),
]
