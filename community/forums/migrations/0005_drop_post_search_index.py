"""Drop the GIN index on ``forums_post.search_vector`` (migration 0002) on PostgreSQL.

Search reads the search documents and their own GIN index (migrations 0003, 0004); the
index on the posts table was no longer read by any query, yet every post insert and
edit paid for keeping it. The generated ``search_vector`` column stays: the documents'
triggers copy it, so there is one definition of what a post's text is.
"""

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS forum_post_search")


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS forum_post_search ON forums_post USING gin (search_vector)"
        )


class Migration(migrations.Migration):
    dependencies = [("forums", "0004_search_doc_topic_columns")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
