from django.http import HttpResponse


def my_plan(request):  # placeholder until the plan screens land
    return HttpResponse(status=501)


def territory_plan_detail(request, pk):
    return HttpResponse(status=501)


def team_plans(request):
    return HttpResponse(status=501)


def relationship_plan_detail(request, pk):
    return HttpResponse(status=501)


def development_plan_detail(request, pk):
    return HttpResponse(status=501)
