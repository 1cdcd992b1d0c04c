"""Search documents on PostgreSQL: one narrow row per searchable post, kept by triggers.

Why: a search for common words ("viability drop" matches a third of the posts in the
100,000-post benchmark) has to visit every matching row to count the distinct topics and
to pick the newest candidates to rank. Through the GIN index on ``forums_post`` that
meant reading nearly every page of the posts table (about 1.5 KB a row: body, HTML, text
and vector), 17,000 pages from the OS cache for one query, 150-350 ms. A row here is the
vector and the few columns search filters on (about 490 bytes), so the same search reads
a third of the pages, which also stay in PostgreSQL's buffers.

``forums_post_search_doc`` holds the posts anyone may find: not deleted, not hidden
(``access.post_visible_q`` less the author's own hidden posts, which search never shows).
Topic-level visibility (category roles, deleted and merged topics) and the topic filters
stay a join on ``forums_topic``, so moving, merging or restricting a topic needs nothing
here. The vector is copied from the stored generated ``forums_post.search_vector``
(migration 0002), so there is one definition of what a post's text is.

Triggers (PL/pgSQL) keep it: an AFTER INSERT statement trigger with a transition table
(one set-based insert per statement, so ``bulk_create`` and ``COPY`` stay fast), an AFTER
UPDATE row trigger that fires only when a column search reads changes, an AFTER DELETE
statement trigger, and an AFTER TRUNCATE trigger (test database flushes). ORM writes,
``QuerySet.update``, raw SQL and ``COPY`` are all covered; nothing in Python has to
remember it. Nothing on SQLite (search uses ``icontains`` there).
"""

from typing import Any

from django.db import migrations

TABLE = "forums_post_search_doc"
INDEX = "forum_post_search_doc_vector"

# 8-byte columns first, then the flag, then the vector (no alignment padding)
CREATE = [
    f"""
    CREATE TABLE {TABLE} (
        post_id bigint PRIMARY KEY,
        topic_id bigint NOT NULL,
        author_id bigint NOT NULL,
        created_at timestamptz NOT NULL,
        is_verified boolean NOT NULL,
        search_vector tsvector NOT NULL
    )
    """,
    f"""
    CREATE FUNCTION {TABLE}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} (post_id, topic_id, author_id, created_at, is_verified, search_vector)
        SELECT id, topic_id, author_id, created_at, expert_verified_at IS NOT NULL, search_vector
        FROM new_posts WHERE NOT is_deleted AND NOT is_hidden;
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
            INSERT INTO {TABLE}
                (post_id, topic_id, author_id, created_at, is_verified, search_vector)
            VALUES (NEW.id, NEW.topic_id, NEW.author_id, NEW.created_at,
                    NEW.expert_verified_at IS NOT NULL, NEW.search_vector)
            ON CONFLICT (post_id) DO UPDATE SET
                topic_id = EXCLUDED.topic_id,
                author_id = EXCLUDED.author_id,
                created_at = EXCLUDED.created_at,
                is_verified = EXCLUDED.is_verified,
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
    # the posts already there, then the index (faster than keeping it during the copy)
    f"""
    INSERT INTO {TABLE} (post_id, topic_id, author_id, created_at, is_verified, search_vector)
    SELECT id, topic_id, author_id, created_at, expert_verified_at IS NOT NULL, search_vector
    FROM forums_post WHERE NOT is_deleted AND NOT is_hidden
    """,
    f"CREATE INDEX {INDEX} ON {TABLE} USING gin (search_vector)",
    f"ANALYZE {TABLE}",
]
DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_{event} ON forums_post"
    for event in ("insert", "update", "delete", "truncate")
] + [
    *(f"DROP FUNCTION IF EXISTS {TABLE}_{event}()" for event in ("insert", "update", "delete", "truncate")),
    f"DROP TABLE IF EXISTS {TABLE}",
]


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in CREATE:
        schema_editor.execute(statement)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("forums", "0002_search_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
