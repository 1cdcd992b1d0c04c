from django.urls import path

from community.api import views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("catalogue/areas/", views.AreaListView.as_view(), name="api-areas"),
    path("catalogue/skills/", views.SkillListView.as_view(), name="api-skills"),
    path("members/", views.MemberListView.as_view(), name="api-members"),
    path("members/<str:username>/", views.MemberDetailView.as_view(), name="api-member"),
    path("me/", views.MeView.as_view(), name="api-me"),
]
