"""The REST API, version 1: one router; each app's `api.py` lists its resources in `ROUTES`
as (prefix, viewset, basename). See docs/api.md."""

from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from coaching import api as coaching_api
from planning import api as planning_api
from planning import api_forecasts as forecasts_api
from retention import api as retention_api

router = DefaultRouter()
for module in (accounts_api, planning_api, forecasts_api, coaching_api, retention_api):
    for prefix, viewset, basename in module.ROUTES:
        router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls
