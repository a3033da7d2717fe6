"""Public survey pages, mounted at /survey/ in namespace `survey`: no login, the signed
token in the address is the only key (docs/surveys.md)."""

from django.urls import path

from .views import survey

urlpatterns = [
    path("<str:token>/", survey.survey_form, name="form"),
    path("<str:token>/thanks/", survey.survey_thanks, name="thanks"),
]
