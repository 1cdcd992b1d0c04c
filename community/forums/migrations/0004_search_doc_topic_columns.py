"""Search documents carry what search needs of their topic: its category, whether it is
live (not deleted, not merged away) and whether the post is its accepted answer.

With migration 0003 the match query joined the visible topics (a hash of every visible
topic, built and probed for each of up to 32,000 matches: about a fifth of the query)
and the ranking query joined the topics for the accepted-answer boost. Now both read the
documents alone: visibility is ``topic_live AND category_id IN (the categories the viewer
may read)``, the same rule as ``access.topics_visible_to``. Topic filters (tag, kind,
answer status) still join the topics, only when asked for.

The table is rebuilt (faster than updating 100,000 rows under a GIN index), with a
fillfactor that leaves room for in-place (HOT) updates when a topic changes. One more
trigger, on ``forums_topic``: a move to another category, delete, undelete or merge
updates the documents of the topic's posts; a new accepted answer updates the old and the
new accepted post. Posts moving between topics (merges) were already covered by the post
trigger, which now also reads the post's topic.
"""

import importlib
from typing import Any

from django.db import migrations

previous = importlib.import_module("community.forums.migrations.0003_search_doc")

TABLE = "forums_post_search_doc"
INDEX = "forum_post_search_doc_vector"
TOPIC_INDEX = "forum_post_search_doc_topic"

COLUMNS = (
    "post_id, topic_id, author_id, category_id, created_at, is_verified, is_accepted, "
    "topic_live, search_vector"
)


def _row(post: str) -> str:
    """The document of post row ``post`` joined to its topic ``t``."""
    return (
        f"{post}.id, {post}.topic_id, {post}.author_id, t.category_id, {post}.created_at, "
        f"{post}.expert_verified_at IS NOT NULL, "
        f"coalesce(t.accepted_post_id = {post}.id, false), "
        f"NOT t.is_deleted AND t.merged_into_id IS NULL, {post}.search_vector"
    )


CREATE = [
    f"""
    CREATE TABLE {TABLE} (
        post_id bigint PRIMARY KEY,
        topic_id bigint NOT NULL,
        author_id bigint NOT NULL,
        category_id bigint NOT NULL,
        created_at timestamptz NOT NULL,
        is_verified boolean NOT NULL,
        is_accepted boolean NOT NULL,
        topic_live boolean NOT NULL,
        search_vector tsvector NOT NULL
    ) WITH (fillfactor = 90)
    """,
    f"""
    CREATE FUNCTION {TABLE}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} ({COLUMNS})
        SELECT {_row("p")}
        FROM new_posts p JOIN forums_topic t ON t.id = p.topic_id
        WHERE NOT p.is_deleted AND NOT p.is_hidden;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE FUNCTION {TABLE}_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.is_deleted OR NEW.is_hidden THEN
            DELETE FROM {TABLE} WHERE post_id = OLD.id;
        ELSE
            INSERT INTO {TABLE} ({COLUMNS})
            SELECT {_row("NEW")} FROM forums_topic t WHERE t.id = NEW.topic_id
            ON CONFLICT (post_id) DO UPDATE SET
                topic_id = EXCLUDED.topic_id,
                author_id = EXCLUDED.author_id,
                category_id = EXCLUDED.category_id,
                created_at = EXCLUDED.created_at,
                is_verified = EXCLUDED.is_verified,
                is_accepted = EXCLUDED.is_accepted,
                topic_live = EXCLUDED.topic_live,
                search_vector = EXCLUDED.search_vector;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE FUNCTION {TABLE}_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM {TABLE} d USING old_posts o WHERE d.post_id = o.id;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE FUNCTION {TABLE}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE {TABLE};
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE FUNCTION {TABLE}_topic() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.category_id IS DISTINCT FROM NEW.category_id
           OR OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
           OR OLD.merged_into_id IS DISTINCT FROM NEW.merged_into_id THEN
            UPDATE {TABLE} SET
                category_id = NEW.category_id,
                topic_live = NOT NEW.is_deleted AND NEW.merged_into_id IS NULL
            WHERE topic_id = NEW.id;
        END IF;
        IF OLD.accepted_post_id IS DISTINCT FROM NEW.accepted_post_id THEN
            UPDATE {TABLE} SET is_accepted = coalesce(post_id = NEW.accepted_post_id, false)
            WHERE topic_id = NEW.id AND post_id IN (OLD.accepted_post_id, NEW.accepted_post_id);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER {TABLE}_insert AFTER INSERT ON forums_post
    REFERENCING NEW TABLE AS new_posts
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_insert()
    """,
    f"""
    CREATE TRIGGER {TABLE}_update AFTER UPDATE ON forums_post FOR EACH ROW
    WHEN (
        OLD.body_text IS DISTINCT FROM NEW.body_text
        OR OLD.number IS DISTINCT FROM NEW.number
        OR OLD.topic_id IS DISTINCT FROM NEW.topic_id
        OR OLD.author_id IS DISTINCT FROM NEW.author_id
        OR OLD.created_at IS DISTINCT FROM NEW.created_at
        OR OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
        OR OLD.is_hidden IS DISTINCT FROM NEW.is_hidden
        OR (OLD.expert_verified_at IS NULL) IS DISTINCT FROM (NEW.expert_verified_at IS NULL)
    )
    EXECUTE FUNCTION {TABLE}_update()
    """,
    f"""
    CREATE TRIGGER {TABLE}_delete AFTER DELETE ON forums_post
    REFERENCING OLD TABLE AS old_posts
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_delete()
    """,
    f"""
    CREATE TRIGGER {TABLE}_truncate AFTER TRUNCATE ON forums_post
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_truncate()
    """,
    f"""
    CREATE TRIGGER {TABLE}_topic AFTER UPDATE ON forums_topic FOR EACH ROW
    WHEN (
        OLD.category_id IS DISTINCT FROM NEW.category_id
        OR OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
        OR OLD.merged_into_id IS DISTINCT FROM NEW.merged_into_id
        OR OLD.accepted_post_id IS DISTINCT FROM NEW.accepted_post_id
    )
    EXECUTE FUNCTION {TABLE}_topic()
    """,
    # the posts already there in id order (new ones are appended, so the newest posts,
    # the ranking candidates, sit together), then the indexes (faster than keeping them
    # during the copy)
    f"""
    INSERT INTO {TABLE} ({COLUMNS})
    SELECT {_row("p")} FROM forums_post p JOIN forums_topic t ON t.id = p.topic_id
    WHERE NOT p.is_deleted AND NOT p.is_hidden
    ORDER BY p.id
    """,
    f"CREATE INDEX {INDEX} ON {TABLE} USING gin (search_vector)",
    f"CREATE INDEX {TOPIC_INDEX} ON {TABLE} (topic_id)",
    f"ANALYZE {TABLE}",
]
DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_topic ON forums_topic",
    f"DROP FUNCTION IF EXISTS {TABLE}_topic()",
    *previous.DROP,
]


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in [*previous.DROP, *CREATE]:
        schema_editor.execute(statement)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in [*DROP, *previous.CREATE]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("forums", "0003_search_doc")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
