from django.http import HttpResponse


def dashboard(request):  # placeholder until the sign-off dashboard lands
    return HttpResponse(status=501)
