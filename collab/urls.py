"""URLs of the collab app (mounted at /docs/)."""

from django.urls import path

from collab import views

app_name = "collab"
urlpatterns = [
    path("", views.document_list, name="list"),
    path("<int:document_id>/", views.document_page, name="document"),
    path("<int:document_id>/share/", views.document_share, name="share"),
    path("<int:document_id>/delete/", views.document_delete, name="delete"),
]
