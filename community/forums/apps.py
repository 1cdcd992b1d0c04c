from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ForumsConfig(AppConfig):
    name = "community.forums"
    label = "forums"
    verbose_name = _("Forums")

    def ready(self) -> None:
        from community.forums.views.search import forget_tag_options
        from community.models import CompetencyArea, Skill

        for model in (Skill, CompetencyArea):
            for name, signal in (("saved", post_save), ("deleted", post_delete)):
                uid = f"forums-tag-options-{model.__name__}-{name}"
                signal.connect(forget_tag_options, sender=model, dispatch_uid=uid)
