"""Answers and reactions (services/social.py): counters, stream events, notifications,
permissions, bad input."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.forums.models import (
    MemberStats,
    ModerationLog,
    Post,
    Reaction,
    Topic,
    TopicEvent,
    TopicKind,
)
from community.forums.services.social import (
    answer_accept,
    answer_unaccept,
    post_verify_set,
    reaction_set,
    reaction_toggle,
)
from community.models import User
from community.notifications.models import Notification
from tests.conftest import Race
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db


def _events(topic: Topic, type: str) -> list[dict[str, object]]:
    return list(TopicEvent.objects.filter(topic=topic, type=type).values_list("data", flat=True))


def _stats(user: User) -> MemberStats:
    return MemberStats.objects.get_or_create(user=user)[0]


def _question(replies: int = 2) -> tuple[Topic, list[Post]]:
    topic = make_topic(kind=TopicKind.QUESTION, replies=replies)
    return topic, list(topic.posts.order_by("number"))


# --- reactions ---------------------------------------------------------------------------
def test_reaction_counts_on_post_topic_and_author_and_a_stream_event() -> None:
    topic = make_topic(replies=1)
    reply = topic.posts.get(number=2)
    a, b = make_member().user, make_member().user
    reaction_set(user=a, post=reply, kind="like")
    result = reaction_set(user=b, post=reply, kind="like")
    reaction_set(user=b, post=reply, kind="thanks")
    reply.refresh_from_db()
    topic.refresh_from_db()
    assert reply.reaction_counts == {"like": 2, "thanks": 1}
    assert result["counts"] == {"like": 2}
    assert result["mine"] == ["like"]
    assert topic.reaction_count == 3
    assert _stats(reply.author).reactions_received == 3
    events = _events(topic, "post.reactions")
    assert events[-1] == {"id": reply.pk, "number": 2, "counts": {"like": 2, "thanks": 1}}
    assert len(events) == 3


def test_setting_a_reaction_twice_changes_nothing_and_taking_it_back_undoes_it() -> None:
    topic = make_topic(replies=1)
    reply = topic.posts.get(number=2)
    member = make_member().user
    reaction_set(user=member, post=reply, kind="insightful")
    again = reaction_set(user=member, post=reply, kind="insightful")
    assert again["changed"] is False
    assert Reaction.objects.filter(post=reply).count() == 1
    assert len(_events(topic, "post.reactions")) == 1
    reaction_set(user=member, post=reply, kind="insightful", active=False)
    reply.refresh_from_db()
    topic.refresh_from_db()
    assert reply.reaction_counts == {}
    assert topic.reaction_count == 0
    assert _stats(reply.author).reactions_received == 0
    assert _events(topic, "post.reactions")[-1]["counts"] == {}
    # Taking back what is not there: nothing happens.
    assert (
        reaction_set(user=member, post=reply, kind="insightful", active=False)["changed"] is False
    )
    assert Topic.objects.get(pk=topic.pk).reaction_count == 0


def test_toggle_flips() -> None:
    reply = make_topic(replies=1).posts.get(number=2)
    member = make_member().user
    assert reaction_toggle(user=member, post=reply, kind="same")["mine"] == ["same"]
    assert reaction_toggle(user=member, post=reply, kind="same")["mine"] == []


def test_no_reaction_on_your_own_post() -> None:
    reply = make_topic(replies=1).posts.get(number=2)
    with pytest.raises(PermissionDenied):
        reaction_set(user=reply.author, post=reply, kind="like")
    assert not Reaction.objects.exists()


def test_unknown_kind_is_refused() -> None:
    reply = make_topic(replies=1).posts.get(number=2)
    with pytest.raises(ValidationError) as exc:
        reaction_set(user=make_member().user, post=reply, kind="love")
    assert "kind" in exc.value.message_dict
    assert not Reaction.objects.exists()


def test_no_reaction_on_deleted_or_hidden_posts() -> None:
    topic = make_topic(replies=2)
    deleted, hidden = topic.posts.get(number=2), topic.posts.get(number=3)
    Post.objects.filter(pk=deleted.pk).update(is_deleted=True)
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    member = make_member().user
    with pytest.raises(Post.DoesNotExist):
        reaction_set(user=member, post=deleted, kind="like")
    with pytest.raises(Post.DoesNotExist):
        reaction_set(user=member, post=hidden, kind="like")
    with pytest.raises(PermissionDenied):
        reaction_set(user=make_moderator(), post=hidden, kind="like")
    assert not Reaction.objects.exists()


def test_restricted_category_is_not_found_for_outsiders() -> None:
    lounge = make_category(required_role="facilitator")
    facilitator = make_member(roles=("facilitator",)).user
    topic = make_topic(author=facilitator, category=lounge)
    post = topic.posts.get(number=1)
    with pytest.raises(Post.DoesNotExist):
        reaction_set(user=make_member().user, post=post, kind="like")
    reaction_set(user=make_member(roles=("facilitator",)).user, post=post, kind="like")
    assert Reaction.objects.count() == 1


def test_anonymous_cannot_react() -> None:
    from django.contrib.auth.models import AnonymousUser

    reply = make_topic(replies=1).posts.get(number=2)
    with pytest.raises(PermissionDenied):
        reaction_set(user=AnonymousUser(), post=reply, kind="like")  # type: ignore[arg-type]


@pytest.mark.postgres
def test_double_click_race_gives_one_reaction(race: Race) -> None:
    reply = make_topic(replies=1).posts.get(number=2)
    member = make_member().user
    results = race([lambda: reaction_set(user=member, post=reply, kind="like")] * 4, hold=0.3)
    assert not [r for r in results if isinstance(r, Exception)]
    reply.refresh_from_db()
    assert Reaction.objects.filter(post=reply).count() == 1
    assert reply.reaction_counts == {"like": 1}
    assert Topic.objects.get(pk=reply.topic_id).reaction_count == 1
    assert _stats(reply.author).reactions_received == 1


@pytest.mark.postgres
def test_concurrent_reactions_from_many_members_are_all_counted(race: Race) -> None:
    reply = make_topic(replies=1).posts.get(number=2)
    members = [make_member().user for _ in range(5)]
    race([lambda m=m: reaction_set(user=m, post=reply, kind="like") for m in members])
    reply.refresh_from_db()
    assert reply.reaction_counts == {"like": 5}
    assert Topic.objects.get(pk=reply.topic_id).reaction_count == 5
    assert _stats(reply.author).reactions_received == 5
    seqs = list(TopicEvent.objects.filter(topic_id=reply.topic_id).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


# --- accepted answers --------------------------------------------------------------------
def test_asker_accepts_an_answer() -> None:
    topic, (_q, first, second) = _question()
    answer_accept(user=topic.author, post=first)
    topic.refresh_from_db()
    assert topic.accepted_post_id == first.pk
    assert topic.is_solved
    assert _stats(first.author).accepted_answers == 1
    assert _events(topic, "topic.accepted") == [{"post_id": first.pk, "number": 2}]
    note = Notification.objects.get(recipient=first.author, kind="forum.accepted")
    assert topic.title in note.text
    assert note.url == first.get_absolute_url()
    assert not ModerationLog.objects.exists()
    # Another answer replaces it; the counters follow.
    answer_accept(user=topic.author, post=second)
    topic.refresh_from_db()
    assert topic.accepted_post_id == second.pk
    assert _stats(first.author).accepted_answers == 0
    assert _stats(second.author).accepted_answers == 1
    # Accepting it again changes nothing.
    answer_accept(user=topic.author, post=second)
    assert len(_events(topic, "topic.accepted")) == 2
    answer_unaccept(user=topic.author, topic=topic)
    topic.refresh_from_db()
    assert topic.accepted_post_id is None
    assert _stats(second.author).accepted_answers == 0
    assert _events(topic, "topic.accepted")[-1] == {"post_id": None, "number": None}


def test_moderator_may_accept_on_someone_elses_topic_and_it_is_logged() -> None:
    topic, (_q, first, _second) = _question()
    moderator = make_moderator()
    answer_accept(user=moderator, post=first)
    log = ModerationLog.objects.get()
    assert (log.action, log.moderator_id, log.topic_id, log.post_id) == (
        "accept",
        moderator.pk,
        topic.pk,
        first.pk,
    )
    answer_unaccept(user=moderator, topic=topic)
    assert ModerationLog.objects.filter(action="accept", post=None).count() == 1


def test_others_cannot_accept() -> None:
    topic, (_q, first, _second) = _question()
    for user in (first.author, make_member(roles=("mentor",)).user):
        with pytest.raises(PermissionDenied):
            answer_accept(user=user, post=first)
    assert Topic.objects.get(pk=topic.pk).accepted_post_id is None


def test_opening_post_discussions_and_hidden_posts_cannot_be_answers() -> None:
    topic, (question, first, _second) = _question()
    with pytest.raises(ValidationError):
        answer_accept(user=topic.author, post=question)
    Post.objects.filter(pk=first.pk).update(is_hidden=True)
    with pytest.raises(ValidationError):
        answer_accept(user=topic.author, post=first)
    discussion = make_topic(replies=1)
    with pytest.raises(ValidationError):
        answer_accept(user=discussion.author, post=discussion.posts.get(number=2))
    assert not Topic.objects.filter(accepted_post__isnull=False).exists()


def test_asker_accepting_their_own_reply_does_not_count_for_them() -> None:
    topic, _posts = _question(replies=0)
    own = make_post(topic=topic, author=topic.author, body="Solved it myself: glucose feed.")
    answer_accept(user=topic.author, post=own)
    assert Topic.objects.get(pk=topic.pk).accepted_post_id == own.pk
    assert _stats(topic.author).accepted_answers == 0
    assert not Notification.objects.filter(kind="forum.accepted").exists()
    answer_unaccept(user=topic.author, topic=topic)
    assert _stats(topic.author).accepted_answers == 0


# --- expert verification -----------------------------------------------------------------
def test_mentor_verifies_and_unverifies_an_answer() -> None:
    topic, (_q, first, _second) = _question()
    mentor = make_member(roles=("mentor",)).user
    post = post_verify_set(user=mentor, post=first)
    assert post.expert_verified_by_id == mentor.pk
    assert post.expert_verified_at is not None
    assert _events(topic, "post.verified") == [{"id": first.pk, "number": 2, "by": mentor.username}]
    assert Notification.objects.filter(recipient=first.author, kind="forum.verified").count() == 1
    post_verify_set(user=mentor, post=first)  # again: nothing changes
    assert len(_events(topic, "post.verified")) == 1
    post_verify_set(user=mentor, post=first, verified=False)
    first.refresh_from_db()
    assert first.expert_verified_by_id is None
    assert first.expert_verified_at is None
    assert _events(topic, "post.verified")[-1]["by"] is None


def test_who_may_verify() -> None:
    topic, (question, first, _second) = _question()
    with pytest.raises(PermissionDenied):
        post_verify_set(user=make_member(roles=("learner", "professional")).user, post=first)
    with pytest.raises(PermissionDenied):
        post_verify_set(user=topic.author, post=first)
    post_verify_set(user=make_moderator(), post=first)
    mentor = make_member(roles=("mentor",)).user
    own = make_post(topic=topic, author=mentor, body="My own expert answer.")
    with pytest.raises(PermissionDenied):
        post_verify_set(user=mentor, post=own)
    with pytest.raises(ValidationError):
        post_verify_set(user=mentor, post=question)
    discussion = make_topic(replies=1)
    with pytest.raises(ValidationError):
        post_verify_set(user=mentor, post=discussion.posts.get(number=2))
    assert list(Post.objects.filter(expert_verified_at__isnull=False)) == [first]
