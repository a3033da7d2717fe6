"""Pages of the RM's pipeline: included by accounts/urls.py."""

from django.urls import path

from . import views_pipeline as views

urlpatterns = [
    path("pipeline/", views.pipeline_list, name="pipeline"),
    path("pipeline/board/", views.pipeline_board, name="pipeline_board"),
    path("pipeline/new/", views.opportunity_create, name="opportunity_create"),
    path("pipeline/<int:pk>/", views.opportunity_detail, name="opportunity"),
    path("pipeline/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("pipeline/<int:pk>/move/", views.opportunity_move, name="opportunity_move"),
    path("pipeline/<int:pk>/win/", views.opportunity_win, name="opportunity_win"),
    path("pipeline/<int:pk>/lose/", views.opportunity_lose, name="opportunity_lose"),
]
