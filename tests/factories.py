"""factory_boy factories for tests. Members are made through the services."""

from typing import Any

import factory
from allauth.account.models import EmailAddress

from community.models import CompetencyArea, Profile, Skill, User
from community.services import profile_create, profile_update

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted is not False:
            self.save()
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class AreaFactory(factory.django.DjangoModelFactory[CompetencyArea]):
    class Meta:
        model = CompetencyArea
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"test-area-{n}")
    name = factory.Sequence(lambda n: f"Test area {n}")
    description = "An area for tests."


class SkillFactory(factory.django.DjangoModelFactory[Skill]):
    class Meta:
        model = Skill
        django_get_or_create = ("slug",)

    area = factory.SubFactory(AreaFactory)
    slug = factory.Sequence(lambda n: f"test-skill-{n}")
    name = factory.Sequence(lambda n: f"Test skill {n}")
    description = "A skill for tests."


def make_member(
    username: str | None = None,
    *,
    display_name: str = "",
    roles: tuple[str, ...] = ("learner",),
    time_zone: str = "UTC",
    **profile_data: Any,
) -> Profile:
    """A verified member with a profile; ``profile_data`` goes through ``profile_update``
    (headline, organisation, country, bio, visibility, languages, skills={slug: level})."""
    user = UserFactory(username=username) if username else UserFactory()
    profile = profile_create(
        user=user, display_name=display_name or user.username.title(), time_zone=time_zone,
        roles=roles,
    )  # fmt: skip
    if profile_data:
        profile = profile_update(actor=user, profile=profile, data=profile_data)
    return profile
