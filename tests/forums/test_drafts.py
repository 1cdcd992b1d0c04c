"""Drafts: one per member per topic and one for a new topic; saved, restored, deleted
when the post is sent."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.forums.models import Draft
from community.forums.selectors.posting import draft_get, drafts_for_user
from community.forums.services.drafts import draft_delete, draft_save
from community.forums.services.posting import post_create, topic_create
from tests.factories import SkillFactory, make_member
from tests.forums.factories import make_category, make_topic

pytestmark = pytest.mark.django_db


def test_one_reply_draft_per_member_per_topic() -> None:
    member = make_member().user
    topic = make_topic(replies=1)
    first = draft_save(user=member, topic=topic, body="Half a thought")
    reply_to = topic.posts.get(number=2)
    second = draft_save(user=member, topic=topic, body="A whole thought", reply_to=reply_to)
    assert first is not None
    assert second is not None
    assert first.pk == second.pk
    draft = draft_get(user=member, topic=topic)
    assert draft is not None
    assert (draft.body, draft.reply_to_id) == ("A whole thought", reply_to.pk)
    assert Draft.objects.count() == 1


def test_new_topic_draft_keeps_every_field() -> None:
    member = make_member().user
    category = make_category()
    skill = SkillFactory()
    draft_save(
        user=member,
        category=category,
        title="Half a title",
        kind="question",
        skills=[skill.slug],
        body="Text",
    )
    draft = draft_get(user=member)
    assert draft is not None
    assert (draft.category, draft.title, draft.kind, draft.skills) == (
        category,
        "Half a title",
        "question",
        [skill.slug],
    )


def test_sending_deletes_the_draft() -> None:
    member = make_member().user
    category = make_category()
    draft_save(user=member, title="Draft title", body="Draft body")
    topic = topic_create(author=member, category=category, title="A real title", body="Body")
    assert draft_get(user=member) is None
    draft_save(user=member, topic=topic, body="Reply draft")
    other_topic = make_topic()
    draft_save(user=member, topic=other_topic, body="Another")
    post_create(author=member, topic=topic, body="Sent")
    assert draft_get(user=member, topic=topic) is None
    assert draft_get(user=member, topic=other_topic) is not None


def test_an_empty_draft_is_deleted() -> None:
    member = make_member().user
    topic = make_topic()
    draft_save(user=member, topic=topic, body="Something")
    assert draft_save(user=member, topic=topic, body="   ") is None
    assert not Draft.objects.exists()
    assert draft_delete(user=member, topic=topic) is False


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"body": "x" * 20001}, "body"),
        ({"title": "t" * 201, "body": "ok"}, "title"),
        ({"kind": "poll", "body": "ok"}, "kind"),
        ({"skills": ["no-such-skill"], "body": "ok"}, "skills"),
    ],
)
def test_bad_drafts_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        draft_save(user=make_member().user, **kwargs)  # type: ignore[arg-type]
    assert field in exc.value.message_dict
    assert not Draft.objects.exists()


def test_drafts_respect_restricted_categories_and_topics() -> None:
    lounge = make_category(required_role="facilitator")
    learner = make_member().user
    with pytest.raises(ValidationError) as exc:
        draft_save(user=learner, category=lounge, body="Sneaky")
    assert "category" in exc.value.message_dict
    hidden_topic = make_topic(author=make_member(roles=("facilitator",)).user, category=lounge)
    with pytest.raises(PermissionDenied):
        draft_save(user=learner, topic=hidden_topic, body="Sneaky")
    other = make_topic(replies=1)
    with pytest.raises(ValidationError) as exc:
        draft_save(user=learner, topic=make_topic(), body="x", reply_to=other.posts.get(number=2))
    assert "reply_to" in exc.value.message_dict


def test_drafts_list_leaves_out_topics_no_longer_readable() -> None:
    member = make_member(roles=("facilitator",)).user
    lounge = make_category(required_role="facilitator")
    topic = make_topic(category=lounge, author=member)
    draft_save(user=member, topic=topic, body="Lounge reply")
    draft_save(user=member, body="New topic text")
    assert len(drafts_for_user(member)) == 2
    member.profile.is_facilitator = False
    member.profile.save()
    fresh = type(member).objects.get(pk=member.pk)
    assert [d.topic_id for d in drafts_for_user(fresh)] == [None]
