"""The mentoring API, under /api/v1/mentoring/."""

from django.urls import path

from community.mentoring.api import views

urlpatterns = [
    path("settings/", views.MentoringSettingsView.as_view(), name="api-mentoring-settings"),
    path(
        "recommendations/",
        views.RecommendationListView.as_view(),
        name="api-mentoring-recommendations",
    ),
    path("mentorships/", views.MentorshipListView.as_view(), name="api-mentorships"),
    path("mentorships/<int:pk>/", views.MentorshipDetailView.as_view(), name="api-mentorship"),
    path(
        "mentorships/<int:pk>/accept/",
        views.MentorshipAcceptView.as_view(),
        name="api-mentorship-accept",
    ),
    path(
        "mentorships/<int:pk>/decline/",
        views.MentorshipDeclineView.as_view(),
        name="api-mentorship-decline",
    ),
    path(
        "mentorships/<int:pk>/withdraw/",
        views.MentorshipWithdrawView.as_view(),
        name="api-mentorship-withdraw",
    ),
    path(
        "mentorships/<int:pk>/complete/",
        views.MentorshipCompleteView.as_view(),
        name="api-mentorship-complete",
    ),
    path(
        "mentorships/<int:pk>/cancel/",
        views.MentorshipCancelView.as_view(),
        name="api-mentorship-cancel",
    ),
    path(
        "mentorships/<int:pk>/feedback/",
        views.MentorshipFeedbackView.as_view(),
        name="api-mentorship-feedback",
    ),
    path(
        "mentorships/<int:pk>/goals/",
        views.MentorshipGoalCreateView.as_view(),
        name="api-mentorship-goals",
    ),
    path(
        "mentorships/<int:pk>/goals/<int:goal_id>/",
        views.MentorshipGoalUpdateView.as_view(),
        name="api-mentorship-goal",
    ),
    path(
        "mentorships/<int:pk>/sessions/",
        views.MentorshipSessionCreateView.as_view(),
        name="api-mentorship-sessions",
    ),
    path(
        "mentorships/<int:pk>/meeting-times/",
        views.MeetingTimesView.as_view(),
        name="api-mentorship-meeting-times",
    ),
    path(
        "mentorships/<int:pk>/invite.ics",
        views.MeetingInviteView.as_view(),
        name="api-mentorship-invite",
    ),
    path("programmes/", views.ProgrammeListView.as_view(), name="api-programmes"),
    path("programmes/<int:pk>/", views.ProgrammeDetailView.as_view(), name="api-programme"),
    path(
        "programmes/<int:pk>/members/",
        views.ProgrammeMemberAddView.as_view(),
        name="api-programme-members",
    ),
    path(
        "programmes/<int:pk>/members/<str:username>/",
        views.ProgrammeMemberRemoveView.as_view(),
        name="api-programme-member",
    ),
    path(
        "programmes/<int:pk>/match/",
        views.ProgrammeMatchView.as_view(),
        name="api-programme-match",
    ),
    path(
        "programmes/<int:pk>/adjust/",
        views.ProgrammeAdjustView.as_view(),
        name="api-programme-adjust",
    ),
    path(
        "programmes/<int:pk>/publish/",
        views.ProgrammePublishView.as_view(),
        name="api-programme-publish",
    ),
]
