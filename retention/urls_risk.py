from django.urls import path

from .views import risk

urlpatterns = [
    path("", risk.retention, name="retention"),
    path("connections/", risk.connections, name="connections"),
    path("connections/<int:pk>/", risk.account_connections, name="account_connections"),
    path("connections/contacts/<int:pk>/remove/", risk.contact_remove, name="contact_remove"),
]
