"""Customer ratings entered by the back office: the CSV import (administrators)."""

from django.urls import path

from .views import ratings

urlpatterns = [
    path("ratings/import/", ratings.ratings_import, name="ratings_import"),
]
