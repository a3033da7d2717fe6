"""Target sets and steering standards."""

from django.urls import path

from .views import targets

urlpatterns = [
    path("targets/", targets.target_set_list, name="target_sets"),
    path("targets/<int:pk>/", targets.target_set_detail, name="target_set"),
]
