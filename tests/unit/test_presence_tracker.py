"""Presence from heartbeats: what the presence loop is asked to store when points come and go."""

from __future__ import annotations

from confhub.attendance.models import Presence
from confhub.attendance.presence import PresenceTracker

MEETING = 7


def due_presence(tracker: PresenceTracker) -> dict[int, Presence]:
    return {point_id: presence for _, point_id, presence, _ in tracker.due()}


def test_a_point_whose_last_client_leaves_is_reported_offline_once() -> None:
    tracker = PresenceTracker()
    tracker.connected(MEETING, 1)
    tracker.beat(MEETING, 1, 40)
    tracker.reported(tracker.due())

    assert tracker.disconnected(MEETING, 1) is True
    changes = tracker.due()
    assert [(point_id, presence) for _, point_id, presence, _ in changes] == [(1, Presence.OFFLINE)]
    tracker.reported(changes)
    assert tracker.due() == []
    assert tracker.alive() == {}


def test_a_thousand_points_leaving_together_are_one_round_of_changes() -> None:
    tracker = PresenceTracker()
    for point_id in range(1000):
        tracker.connected(MEETING, point_id)
        tracker.beat(MEETING, point_id, 30)
    tracker.reported(tracker.due())

    for point_id in range(1000):
        tracker.disconnected(MEETING, point_id)

    assert due_presence(tracker) == dict.fromkeys(range(1000), Presence.OFFLINE)


def test_a_point_with_another_client_still_connected_stays_online() -> None:
    tracker = PresenceTracker()
    tracker.connected(MEETING, 1)
    tracker.connected(MEETING, 1)
    tracker.beat(MEETING, 1, 40)
    tracker.reported(tracker.due())

    assert tracker.disconnected(MEETING, 1) is False
    assert tracker.due() == []
    assert tracker.alive() == {MEETING: {1: 40}}


def test_a_point_back_before_its_departure_was_stored_is_not_reported_offline() -> None:
    tracker = PresenceTracker()
    tracker.connected(MEETING, 1)
    tracker.beat(MEETING, 1, 40)
    tracker.reported(tracker.due())
    tracker.disconnected(MEETING, 1)

    tracker.connected(MEETING, 1)

    assert tracker.due() == []
    assert tracker.alive() == {MEETING: {1: 40}}


def test_a_point_that_returns_while_its_departure_is_stored_is_reported_online_next() -> None:
    tracker = PresenceTracker()
    tracker.connected(MEETING, 1)
    tracker.beat(MEETING, 1, 40)
    tracker.reported(tracker.due())
    tracker.disconnected(MEETING, 1)
    departure = tracker.due()

    tracker.connected(MEETING, 1)  # while the offline change is being written
    tracker.beat(MEETING, 1, 40)
    tracker.reported(departure)

    assert due_presence(tracker) == {1: Presence.ONLINE}
