from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    return redirect("accounts:book")


def my_team(request):
    pass


def team_overview(request, pk):
    pass


def bank_overview(request):
    pass
