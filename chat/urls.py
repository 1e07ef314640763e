"""URLs of the chat app (mounted at /chat/)."""

from django.urls import path

from chat import views

app_name = "chat"
urlpatterns = [path("<slug:slug>/", views.room_page, name="room")]
