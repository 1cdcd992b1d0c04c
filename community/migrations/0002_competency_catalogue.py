"""Ship the biomanufacturing competency catalogue and the Moderators group.

The catalogue is loaded from community/data/competencies.json as it stood when this
migration was written; later edits are made by staff in the admin or by new migrations.
Re-running updates names and descriptions and adds what is missing; it deletes nothing.
"""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "competencies.json"


def load_catalogue(apps, schema_editor):
    CompetencyArea = apps.get_model("community", "CompetencyArea")
    Skill = apps.get_model("community", "Skill")
    areas = json.loads(DATA.read_text(encoding="utf-8"))
    for area_pos, area_data in enumerate(areas):
        area, _ = CompetencyArea.objects.update_or_create(
            slug=area_data["slug"],
            defaults={
                "name": area_data["name"],
                "description": area_data["description"],
                "position": area_pos,
            },
        )
        for skill_pos, skill in enumerate(area_data["skills"]):
            Skill.objects.update_or_create(
                slug=skill["slug"],
                defaults={
                    "area": area,
                    "name": skill["name"],
                    "description": skill["description"],
                    "position": skill_pos,
                },
            )


def create_moderators(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("community")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    perm = Permission.objects.get(codename="moderate_community", content_type__app_label="community")
    group.permissions.add(perm)


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(load_catalogue, migrations.RunPython.noop),
        migrations.RunPython(create_moderators, migrations.RunPython.noop),
    ]
