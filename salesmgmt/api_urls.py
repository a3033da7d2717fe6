"""The REST API, version 1: one router, one module of viewsets per app (docs/api.md)."""

from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api

router = DefaultRouter()
router.register("accounts", accounts_api.AccountViewSet, basename="account")
router.register("positions", accounts_api.PositionViewSet, basename="position")
router.register("activities", accounts_api.ActivityViewSet, basename="activity")
router.register("opportunities", accounts_api.OpportunityViewSet, basename="opportunity")

urlpatterns = router.urls
