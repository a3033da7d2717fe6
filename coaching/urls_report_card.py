"""The RB report card, improvement plans, the compensation view and the year's behaviours."""

from django.urls import path

from .views import behaviours, report_card

urlpatterns = [
    path("report-card/", report_card.my_report_card, name="report_card"),
    path("report-card/rm/<int:pk>/", report_card.rm_report_card, name="rm_report_card"),
    path("report-card/team/<int:pk>/", report_card.team_report_card, name="team_report_card"),
    path("report-card/bank/", report_card.bank_report_card, name="bank_report_card"),
    path(
        "report-card/improvement/<int:behaviour_id>/",
        report_card.improvement_plan,
        name="improvement_plan",
    ),
    path("report-card/compensation/", report_card.compensation, name="compensation"),
    path("behaviours/", behaviours.behaviours_current, name="behaviours_current"),
    path("behaviours/<int:year>/", behaviours.behaviours, name="behaviours"),
]
