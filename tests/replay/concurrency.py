"""GitHub's rule for workflow runs that share a concurrency group, as its documentation states it
("Control the concurrency of workflows and jobs"): a group has at most one run in progress and one
pending. A run that starts while another of its group is in progress waits, and takes the place of
the one already pending, which is cancelled. With `cancel-in-progress`, the run in progress is
cancelled instead and the new one starts. A run without a group starts at once."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Runs:
    """Each run's state (`in_progress`, `pending`, `cancelled`, `completed`), by the run's name."""

    state: dict[str, str] = field(default_factory=dict)
    _group: dict[str, str | None] = field(default_factory=dict)

    def _in(self, group: str | None, state: str) -> list[str]:
        return [r for r, s in self.state.items() if group is not None and self._group[r] == group and s == state]

    def start(self, run: str, concurrency: tuple[str, bool] | None) -> None:
        group, cancel_in_progress = concurrency if concurrency else (None, False)
        self._group[run] = group
        for waiting in self._in(group, "pending"):
            self.state[waiting] = "cancelled"
        running = self._in(group, "in_progress")
        if running and cancel_in_progress:
            for other in running:
                self.state[other] = "cancelled"
            running = []
        self.state[run] = "pending" if running else "in_progress"

    def finish(self, run: str) -> None:
        assert self.state[run] == "in_progress", (run, self.state[run])
        self.state[run] = "completed"
        for waiting in self._in(self._group[run], "pending"):
            self.state[waiting] = "in_progress"
