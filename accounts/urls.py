from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.book, name="book"),
    path("<int:pk>/", views.account_detail, name="detail"),
]
