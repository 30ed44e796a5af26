"""The titles of an incident's other alerts, shown with it: an alert that joins a noisy
incident by correlation must not hide behind the first alert's title."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.api import AlertsInTx
from oncallnova.incidents.models import Incident
from oncallnova.incidents.schemas import IncidentOut

SHOWN = 5

Titles = dict[str, tuple[list[str], int]]


async def lookup(alerts: AlertsInTx, session: AsyncSession, incidents: list[Incident]) -> Titles:
    """One query for the whole page, and only for incidents with more than one alert."""
    wanted = [i.id for i in incidents if i.alert_count > 1]
    # One more than shown: the incident's own title may be among the newest.
    return await alerts.titles_of(session, wanted, SHOWN + 1) if wanted else {}


def show(out: list[IncidentOut], found: Titles) -> None:
    for item in out:
        titles, total = found.get(item.id, ([], 1))
        others = [t for t in titles if t != item.title]
        item.other_titles = others[:SHOWN]
        # The incident's title is its first alert's, so it is one of the distinct titles.
        item.other_titles_total = max(total - 1, len(others))
