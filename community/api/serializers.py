"""Input and output shapes of the community API."""

from typing import Any

from django_countries import countries
from rest_framework import serializers

from community.languages import SPOKEN_LANGUAGES
from community.models import (
    CompetencyArea,
    Profile,
    ProfileSkill,
    Role,
    Skill,
    SkillLevel,
    Visibility,
)


# --- catalogue -------------------------------------------------------------------
class SkillBriefSerializer(serializers.ModelSerializer[Skill]):
    class Meta:
        model = Skill
        fields = ["slug", "name", "description"]


class SkillSerializer(serializers.ModelSerializer[Skill]):
    area: serializers.SlugRelatedField[CompetencyArea] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Skill
        fields = ["slug", "name", "description", "area"]


class AreaSerializer(serializers.ModelSerializer[CompetencyArea]):
    skills = SkillBriefSerializer(many=True, read_only=True)

    class Meta:
        model = CompetencyArea
        fields = ["slug", "name", "description", "skills"]


class SkillListInput(serializers.Serializer):
    area = serializers.SlugField(required=False, default="")


# --- members ---------------------------------------------------------------------------
class ProfileSkillSerializer(serializers.ModelSerializer[ProfileSkill]):
    skill: serializers.SlugRelatedField[Skill] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    name = serializers.CharField(source="skill.name", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = ProfileSkill
        fields = ["skill", "name", "level", "level_label"]


class MemberSerializer(serializers.ModelSerializer[Profile]):
    username = serializers.CharField(source="user.username", read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)
    country_name = serializers.CharField(source="country.name", read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    languages = serializers.SerializerMethodField()
    skills = ProfileSkillSerializer(source="skill_levels", many=True, read_only=True)

    class Meta:
        model = Profile
        fields = [
            "username",
            "display_name",
            "headline",
            "organisation",
            "country",
            "country_name",
            "roles",
            "languages",
            "skills",
        ]

    def get_languages(self, profile: Profile) -> list[str]:
        return [language.code for language in profile.languages.all()]


class MemberDetailSerializer(MemberSerializer):
    bio_html = serializers.CharField(read_only=True)
    joined = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "time_zone", "bio", "bio_html", "joined"]


class MeSerializer(MemberDetailSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta(MemberDetailSerializer.Meta):
        fields = [*MemberDetailSerializer.Meta.fields, "visibility", "email"]


class CountryCodeField(serializers.ChoiceField):
    """An ISO 3166-1 alpha-2 country code, accepted in either case ("ke" is "KE")."""

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


class MemberListInput(serializers.Serializer):
    # No defaults: "" is no valid value, and an absent filter means "any".
    q = serializers.CharField(required=False, max_length=100)
    skill = serializers.SlugField(required=False)
    level = serializers.ChoiceField(choices=SkillLevel.choices, required=False, allow_null=True)
    country = CountryCodeField(choices=list(countries), required=False)
    language = serializers.ChoiceField(choices=SPOKEN_LANGUAGES, required=False)
    role = serializers.ChoiceField(choices=Role.choices, required=False)


class SkillLevelInput(serializers.Serializer):
    skill = serializers.SlugField()
    level = serializers.ChoiceField(choices=SkillLevel.choices)


class ProfileUpdateInput(serializers.Serializer):
    display_name = serializers.CharField(max_length=80, required=False)
    headline = serializers.CharField(max_length=140, required=False, allow_blank=True)
    organisation = serializers.CharField(max_length=120, required=False, allow_blank=True)
    country = serializers.ChoiceField(choices=list(countries), required=False, allow_blank=True)
    time_zone = serializers.CharField(max_length=64, required=False)
    bio = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False, max_length=4
    )
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=SPOKEN_LANGUAGES), required=False, max_length=10
    )
    skills = SkillLevelInput(many=True, required=False)

    def validate_skills(self, value: list[dict[str, Any]]) -> dict[str, int]:
        slugs = [item["skill"] for item in value]
        if len(slugs) != len(set(slugs)):
            raise serializers.ValidationError("Each skill may appear once.")
        return {item["skill"]: int(item["level"]) for item in value}


class TokenInput(serializers.Serializer):
    login = serializers.CharField(max_length=254, help_text="Username or e-mail address.")
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
