from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from community.markup import render_markdown
from community.models import (
    CompetencyArea,
    Profile,
    ProfileLanguage,
    ProfileSkill,
    Skill,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "is_active", "is_staff", "date_joined"]
    search_fields = ["username", "email"]


class SkillInline(admin.TabularInline):
    model = Skill
    extra = 0
    fields = ["position", "name", "slug", "description", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(CompetencyArea)
class CompetencyAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SkillInline]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "slug", "is_active"]
    list_filter = ["area", "is_active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}


class ProfileSkillInline(admin.TabularInline):
    model = ProfileSkill
    extra = 0
    autocomplete_fields = ["skill"]


class ProfileLanguageInline(admin.TabularInline):
    model = ProfileLanguage
    extra = 0


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "country", "visibility", "is_mentor"]
    list_filter = ["visibility", "is_learner", "is_professional", "is_mentor", "is_facilitator"]
    search_fields = ["display_name", "user__username", "organisation"]
    readonly_fields = ["bio_html"]
    inlines = [ProfileSkillInline, ProfileLanguageInline]

    def save_model(self, request: HttpRequest, obj: Profile, form: Any, change: bool) -> None:
        obj.bio_html = render_markdown(obj.bio)
        super().save_model(request, obj, form, change)
