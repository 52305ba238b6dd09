"""``python -m propsync``: the same as the ``propsync`` command."""

from propsync.cli import app

app()
