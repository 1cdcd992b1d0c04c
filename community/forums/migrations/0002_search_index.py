"""Full-text search on PostgreSQL: a stored generated ``search_vector`` column on posts
and a GIN index on it. Nothing on other databases (SQLite searches with ``icontains``).

The column is computed by PostgreSQL from ``body_text`` on every insert and update, so
no trigger, signal or service has to keep it: ORM writes, ``bulk_create`` and ``COPY``
all get it. The opening post's text starts with the topic title on its own line; that
line is weighted 'A' (titles rank above bodies), the rest 'D'. Configuration 'english'
(stemming and English stop words: "cultures" finds "culture"); the query side must use
the same configuration (see community/forums/selectors/search.py).

The column is not a model field: Django never reads or writes it, and the search
selector refers to it with a small expression. A later migration that changes the type
of ``body_text`` or ``number`` has to drop and re-create it (PostgreSQL refuses to alter a
column a generated column depends on).
"""

from typing import Any

from django.db import migrations

CONFIG = "english"

ADD_COLUMN = f"""
ALTER TABLE forums_post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    CASE WHEN number = 1 THEN
        setweight(to_tsvector('{CONFIG}'::regconfig, split_part(body_text, E'\\n', 1)), 'A')
        || to_tsvector('{CONFIG}'::regconfig, substr(body_text, strpos(body_text, E'\\n') + 1))
    ELSE to_tsvector('{CONFIG}'::regconfig, body_text)
    END
) STORED
"""
ADD_INDEX = "CREATE INDEX forum_post_search ON forums_post USING gin (search_vector)"
DROP = [
    "DROP INDEX IF EXISTS forum_post_search",
    "ALTER TABLE forums_post DROP COLUMN IF EXISTS search_vector",
]


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(ADD_COLUMN)
    schema_editor.execute(ADD_INDEX)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("forums", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
