from django.http import HttpResponse


def target_set_list(request):  # placeholder until the target-set screens land
    return HttpResponse(status=501)


def target_set_detail(request, pk):
    return HttpResponse(status=501)
