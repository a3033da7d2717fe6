def book(request):
    pass


def account_detail(request, pk):
    pass
