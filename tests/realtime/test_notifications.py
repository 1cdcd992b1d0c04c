"""Pushing events to a member's sockets (realtime.events), on both channel layers.

Each test runs on the in-memory layer and again on channels_redis (marked ``redis``).
Absence is proven by order, not by waiting: a marker sent afterwards must arrive first.
"""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.events import publish_to_user, user_group, user_revoked
from tests.realtime.sockets import Sockets, ping, recv, recv_close, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("layer")]

to_thread = database_sync_to_async


def marker(user_id: int, label: str) -> None:
    """Publish a committed ``marker`` event: anything sent before it arrives before it."""
    publish_to_user(user_id=user_id, event_type="marker", data={"label": label})


async def test_event_reaches_the_member_socket(sockets: Sockets, member):
    """A published event arrives on the member's socket as {type, data}."""
    comm = await sockets.open(session=await to_thread(sign_in)(member.user))
    await to_thread(publish_to_user)(
        user_id=member.user.pk, event_type="notification", data={"text": "New reply", "n": 3}
    )
    assert await recv(comm) == {"type": "notification", "data": {"text": "New reply", "n": 3}}


async def test_event_is_sent_only_after_commit(sockets: Sockets, member):
    """Inside a transaction the event waits for the commit: a direct send overtakes it."""
    comm = await sockets.open(session=await to_thread(sign_in)(member.user))
    uid = member.user.pk

    def write_and_publish() -> None:
        with transaction.atomic():
            publish_to_user(user_id=uid, event_type="notification", data={"id": 1})
            # Still inside the transaction: this goes out immediately.
            async_to_sync(get_channel_layer().group_send)(
                user_group(uid),
                {"type": "hub.event", "event": {"type": "marker", "data": {"label": "before"}}},
            )

    await to_thread(write_and_publish)()
    assert await recv(comm) == {"type": "marker", "data": {"label": "before"}}
    assert await recv(comm) == {"type": "notification", "data": {"id": 1}}


async def test_event_is_never_sent_when_the_transaction_rolls_back(sockets: Sockets, member):
    """A write that fails takes its event with it: nothing arrives before the next marker."""
    comm = await sockets.open(session=await to_thread(sign_in)(member.user))
    uid = member.user.pk

    def fail_after_publishing() -> None:
        with transaction.atomic():
            publish_to_user(user_id=uid, event_type="notification", data={"id": "ghost"})
            raise RuntimeError("the write failed")

    with pytest.raises(RuntimeError, match="the write failed"):
        await to_thread(fail_after_publishing)()
    await to_thread(marker)(uid, "after")
    assert await recv(comm) == {"type": "marker", "data": {"label": "after"}}


async def test_inner_savepoint_rollback_drops_its_event_only(sockets: Sockets, member):
    """An event published in a rolled-back savepoint is dropped; the outer one is sent."""
    comm = await sockets.open(session=await to_thread(sign_in)(member.user))
    uid = member.user.pk

    def nested() -> None:
        with transaction.atomic():
            publish_to_user(user_id=uid, event_type="notification", data={"id": "kept"})
            try:
                with transaction.atomic():
                    publish_to_user(user_id=uid, event_type="notification", data={"id": "ghost"})
                    raise ValueError
            except ValueError:
                pass
        marker(uid, "after")

    await to_thread(nested)()
    assert await recv(comm) == {"type": "notification", "data": {"id": "kept"}}
    assert await recv(comm) == {"type": "marker", "data": {"label": "after"}}


async def test_event_never_reaches_another_member(sockets: Sockets, member, other_member):
    """An event for Amina is not delivered to Kwame's socket."""
    amina = await sockets.open(session=await to_thread(sign_in)(member.user))
    kwame = await sockets.open(session=await to_thread(sign_in)(other_member.user))
    await to_thread(publish_to_user)(
        user_id=member.user.pk, event_type="notification", data={"for": "amina"}
    )
    await to_thread(marker)(other_member.user.pk, "for kwame")
    assert await recv(kwame) == {"type": "marker", "data": {"label": "for kwame"}}
    assert await recv(amina) == {"type": "notification", "data": {"for": "amina"}}


async def test_every_socket_of_the_member_receives_the_event(sockets: Sockets, member):
    """Two tabs on one session and a second device each receive the event once."""
    laptop = await to_thread(sign_in)(member.user)
    phone = await to_thread(sign_in)(member.user)
    tabs = [
        await sockets.open(session=laptop),
        await sockets.open(session=laptop),
        await sockets.open(session=phone),
    ]
    await to_thread(publish_to_user)(
        user_id=member.user.pk, event_type="notification", data={"text": "hi"}
    )
    await to_thread(marker)(member.user.pk, "end")
    for comm in tabs:
        assert await recv(comm) == {"type": "notification", "data": {"text": "hi"}}
        assert (await recv(comm))["type"] == "marker"


# --- revocation ------------------------------------------------------------------------
async def test_logout_closes_sockets_of_that_session_only(sockets: Sockets, member):
    """Logging out sends session.revoked and closes that session's sockets with 4409."""
    laptop = await to_thread(sign_in)(member.user)
    phone = await to_thread(sign_in)(member.user)
    laptop_tabs = [await sockets.open(session=laptop), await sockets.open(session=laptop)]
    phone_socket = await sockets.open(session=phone)

    response = await to_thread(laptop.post)("/accounts/logout/")
    assert response.status_code == 302

    for comm in laptop_tabs:
        assert await recv(comm) == {"type": "session.revoked", "data": {"reason": "logged_out"}}
        assert await recv_close(comm) == 4409
    await to_thread(marker)(member.user.pk, "after logout")
    assert await recv(phone_socket) == {"type": "marker", "data": {"label": "after logout"}}
    pong = await ping(phone_socket, "still-here")
    assert (pong["type"], pong["ref"]) == ("pong", "still-here")


async def test_logged_out_cookie_cannot_open_a_socket(sockets: Sockets, member):
    """After logging out, the old session cookie no longer opens a socket."""
    session = await to_thread(sign_in)(member.user)
    stale_cookie = session.cookies["sessionid"].value
    await to_thread(session.post)("/accounts/logout/")
    session.cookies["sessionid"] = stale_cookie
    assert await sockets.refused(session=session) == 4401


async def test_logout_leaves_other_members_alone(sockets: Sockets, member, other_member):
    """One member logging out does not disturb another member's socket."""
    amina = await to_thread(sign_in)(member.user)
    kwame_socket = await sockets.open(session=await to_thread(sign_in)(other_member.user))
    amina_socket = await sockets.open(session=amina)
    await to_thread(amina.post)("/accounts/logout/")
    assert (await recv(amina_socket))["type"] == "session.revoked"
    await to_thread(marker)(other_member.user.pk, "after")
    assert await recv(kwame_socket) == {"type": "marker", "data": {"label": "after"}}
    assert (await ping(kwame_socket))["type"] == "pong"


async def test_user_revoked_closes_every_socket_of_the_member(
    sockets: Sockets, member, other_member
):
    """Revoking a member closes all their sockets, whatever the session, with 4409."""
    laptop = await to_thread(sign_in)(member.user)
    phone = await to_thread(sign_in)(member.user)
    mine = [
        await sockets.open(session=laptop),
        await sockets.open(session=laptop),
        await sockets.open(session=phone),
    ]
    theirs = await sockets.open(session=await to_thread(sign_in)(other_member.user))

    await to_thread(user_revoked)(user_id=member.user.pk)

    for comm in mine:
        assert await recv(comm) == {
            "type": "session.revoked",
            "data": {"reason": "access_revoked"},
        }
        assert await recv_close(comm) == 4409
    await to_thread(marker)(other_member.user.pk, "after")
    assert await recv(theirs) == {"type": "marker", "data": {"label": "after"}}
    assert (await ping(theirs))["type"] == "pong"


async def test_user_revoked_waits_for_commit_and_respects_rollback(sockets: Sockets, member):
    """A revocation inside a failed transaction does not close the member's socket."""
    comm = await sockets.open(session=await to_thread(sign_in)(member.user))
    uid = member.user.pk

    def revoke_then_fail() -> None:
        with transaction.atomic():
            user_revoked(user_id=uid)
            raise RuntimeError("ban failed")

    with pytest.raises(RuntimeError, match="ban failed"):
        await to_thread(revoke_then_fail)()
    await to_thread(marker)(uid, "after")
    assert await recv(comm) == {"type": "marker", "data": {"label": "after"}}
    pong = await ping(comm, "alive")
    assert (pong["type"], pong["ref"]) == ("pong", "alive")
