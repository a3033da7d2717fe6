"""Pages of the RM's activities: included by accounts/urls.py."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
