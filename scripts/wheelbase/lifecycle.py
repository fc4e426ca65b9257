"""Where a wheelhouse's Python series is in its life, as its labels say, told to the services on it.

A series leaves the published list only through a documented retirement (docs/publishing.md): its
last releases carry the last day it is published (dev.wheelbase.retiring) and the tag of the
series to move to (dev.wheelbase.successor). Every release also carries upstream's end of life of
its Python (dev.wheelbase.python.end-of-life). `wheelbase pin` and `pin --check` warn a service
whose pinned series is retiring, retired or past its end of life, in one line that names the tag
to move to and the command that moves it.
"""

from __future__ import annotations

import datetime

from .release import Wheelhouse


def _passed(date: str, today: datetime.date) -> bool:
    """Whether a YYYY-MM-DD day, or the whole of a YYYY-MM month, is before today."""
    return (date < today.isoformat()) if len(date) == 10 else (date < today.isoformat()[:7])


def series_note(wheelhouse: Wheelhouse, today: datetime.date | None = None) -> str | None:
    today = today or datetime.datetime.now(datetime.UTC).date()
    name = wheelhouse.ref.name
    series = name.rsplit(":", 1)[-1]
    if wheelhouse.successor:
        target = f"{name.rsplit(':', 1)[0]}:{wheelhouse.successor}"
        move = f"move to {wheelhouse.successor}: `wheelbase pin --base {target}`, then test and review the change"
    else:
        move = "move to a supported series (`docker buildx bake --print series` in the wheelbase repository lists them)"
    if wheelhouse.retiring:
        if _passed(wheelhouse.retiring, today):
            return f"warning: {series} is no longer published (its last release was on {wheelhouse.retiring}), so it gets no " \
                   f"security rebuilds; {move}"
        return f"warning: {series} is retiring: it is published until {wheelhouse.retiring}, then no more; {move}"
    if wheelhouse.end_of_life and _passed(wheelhouse.end_of_life, today):
        return f"warning: Python {wheelhouse.python_version} reached its end of life upstream in {wheelhouse.end_of_life}; {move}"
    return None
