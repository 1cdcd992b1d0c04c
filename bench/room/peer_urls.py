"""The peer serves no HTTP pages."""

urlpatterns: list = []
