from django.urls import path

from community import views

app_name = "community"

urlpatterns = [
    path("members/", views.member_directory, name="member_list"),
    path("members/<str:username>/", views.member_detail, name="member_detail"),
    path("settings/profile/", views.profile_edit, name="profile_edit"),
    path("catalogue/", views.catalogue, name="catalogue"),
]
