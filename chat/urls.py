"""URLs of the chat app."""

urlpatterns = []
