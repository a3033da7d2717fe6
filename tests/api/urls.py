"""URLs of the API's routes and the ids a list answered, for the API tests."""

from django.urls import reverse


def list_url(resource):
    return reverse(f"api:{resource}-list")


def detail_url(resource, pk):
    return reverse(f"api:{resource}-detail", args=[pk])


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}
