"""Event ids: valid UUIDv7, in position order within an append, unique across appends."""

from __future__ import annotations

import uuid

from hindsight.eventstore.ids import new_event_id, new_event_ids


def test_every_id_is_an_rfc_9562_version_7_uuid() -> None:
    for text in [*new_event_ids(300), new_event_id()]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        assert str(parsed) == text  # canonical lower-case form, as stored


def test_the_ids_of_one_append_sort_in_position_order() -> None:
    ids = new_event_ids(1000)
    assert ids == sorted(ids)
    assert len(set(ids)) == 1000


def test_appends_in_the_same_millisecond_do_not_share_ids() -> None:
    seen: set[str] = set()
    for _ in range(2000):  # most of these land in the same millisecond as another
        batch = new_event_ids(5)
        assert seen.isdisjoint(batch)
        seen.update(batch)
