"""`python -m entrypoints.cli`: the `hindsight` command without its console script (what the
background processes run, with the project's own interpreter)."""

from entrypoints.cli.main import app

app()
