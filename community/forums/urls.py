from community.forums.views import moderation, posting, reading, search, social

app_name = "forums"

urlpatterns = [
    *search.urlpatterns,
    *moderation.urlpatterns,
    *social.urlpatterns,
    *posting.urlpatterns,
    *reading.urlpatterns,
]
