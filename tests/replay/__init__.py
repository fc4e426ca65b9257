"""Replays of GitHub Actions runs: the runner (runner.py), the actions (actions.py), the GitHub side
of a run (github_side.py, and the gh and cosign commands in bin/ that steps call)."""
