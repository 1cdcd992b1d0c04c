from community.forums.api import moderation, posting, reading, search, social

urlpatterns = [
    *search.urlpatterns,
    *moderation.urlpatterns,
    *social.urlpatterns,
    *posting.urlpatterns,
    *reading.urlpatterns,
]
