from django.urls import path

from community.mentoring import views

app_name = "mentoring"

urlpatterns = [
    path("", views.home, name="home"),
    path("request/", views.mentorship_request, name="request"),
    path("settings/", views.settings_edit, name="settings"),
    path("m/<int:pk>/", views.mentorship_detail, name="mentorship_detail"),
    path("m/<int:pk>/accept/", views.mentorship_accept, name="accept"),
    path("m/<int:pk>/decline/", views.mentorship_decline, name="decline"),
    path("m/<int:pk>/withdraw/", views.mentorship_withdraw, name="withdraw"),
    path("m/<int:pk>/complete/", views.mentorship_complete, name="complete"),
    path("m/<int:pk>/cancel/", views.mentorship_cancel, name="cancel"),
    path("m/<int:pk>/goals/", views.goal_add, name="goal_add"),
    path("m/<int:pk>/goals/<int:goal_pk>/", views.goal_progress, name="goal_progress"),
    path("m/<int:pk>/sessions/", views.session_log, name="session_log"),
    path("m/<int:pk>/feedback/", views.feedback_give, name="feedback"),
    path("m/<int:pk>/invite.ics", views.mentorship_invite, name="invite"),
    path("programmes/", views.programme_list, name="programmes"),
    path("programmes/new/", views.programme_new, name="programme_new"),
    path("programmes/<int:pk>/", views.programme_detail, name="programme_detail"),
    path("programmes/<int:pk>/members/", views.programme_member_add, name="programme_member_add"),
    path(
        "programmes/<int:pk>/members/<int:user_pk>/remove/",
        views.programme_member_remove,
        name="programme_member_remove",
    ),
    path("programmes/<int:pk>/match/", views.programme_match, name="programme_match"),
    path("programmes/<int:pk>/adjust/", views.programme_adjust, name="programme_adjust"),
    path("programmes/<int:pk>/publish/", views.programme_publish, name="programme_publish"),
]
