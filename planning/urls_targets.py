"""Target sets and steering standards."""

from django.urls import path

from .views import targets

urlpatterns = [
    path("targets/", targets.target_set_list, name="target_sets"),
    path("targets/start/", targets.target_set_start, name="target_set_start"),
    path("targets/<int:pk>/", targets.target_set_detail, name="target_set"),
    path("targets/<int:pk>/decide/", targets.target_set_decide, name="target_set_decide"),
    path("targets/<int:pk>/revise/", targets.target_set_revise, name="target_set_revise"),
    path("standards/", targets.standards_current, name="standards_current"),
    path("standards/<int:year>/", targets.standards, name="standards"),
]
