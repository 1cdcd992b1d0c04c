"""A topic's live stream: every change a reader of the topic should see (a new post, an
edit, a deletion, reaction counts, the accepted answer ...) becomes a ``TopicEvent``
with the next ``seq`` of the topic, in the same transaction as the change, and is
broadcast to the topic's readers after commit. A reader who reconnects with the last
seq it saw gets what followed from the database (see realtime/consumers/topic.py)."""

from typing import Any

from django.db.models import F

from community.forums.models import Topic, TopicEvent
from realtime.events import topic_broadcast


def topic_event_append(*, topic: Topic, type: str, data: dict[str, Any]) -> TopicEvent:
    """Append an event to ``topic``'s stream. The caller holds the topic row lock
    (``select_for_update``) inside ``transaction.atomic``, so seqs are contiguous."""
    Topic.objects.filter(pk=topic.pk).update(last_seq=F("last_seq") + 1)
    topic.refresh_from_db(fields=["last_seq"])
    event = TopicEvent.objects.create(topic=topic, seq=topic.last_seq, type=type, data=data)
    topic_broadcast(
        topic_id=topic.pk,
        event={"type": type, "seq": event.seq, "topic": topic.pk, "data": data},
    )
    return event
