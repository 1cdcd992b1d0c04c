"""Who hears about what happens in the forums: the one place forum notifications are
decided. The posting services call these inside their transaction; the notifications
app stores each notification and pushes/e-mails it after commit.

Contract (callers rely on it):
- ``on_post_created(post=..., mentioned=...)`` runs for every new post, the opening post
  of a topic included (``post.number == 1``); ``mentioned`` are the members the post
  @mentions who may read the topic.
- Nobody is told about a post they cannot read (restricted categories), about their own
  post, or twice about the same post.
"""

from collections.abc import Sequence

from community.forums.models import Post
from community.models import User


def on_post_created(*, post: Post, mentioned: Sequence[User] = ()) -> None:
    """Notify mentioned members, the author of the post replied to, and watchers."""
    return None


def on_post_edited(*, post: Post, newly_mentioned: Sequence[User] = ()) -> None:
    """An edit added @mentions: tell only the ``newly_mentioned`` members (who may read
    the topic; the author is never among them), as a mention of ``post``. Called by
    posting's ``post_edit`` inside its transaction, only when someone is newly
    mentioned. The body belongs to the social area."""
    return None
