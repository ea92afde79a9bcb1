"""The resident search service (``zsearch serve``): an HTTP API over a :class:`~zsearch.library.Library`.

``client`` (the CLI's side: finds a running service, sends one request; standard library
only), ``lifecycle`` (sockets, token, the one-service lock, background, idle exit, stop),
``app`` (the FastAPI app and its error boundary), ``handlers`` (what each endpoint asks the
Library, giving the CLI's ``--format json`` text byte for byte) and ``web/`` (the page at ``/``).
Nothing here is imported by ``import zsearch`` or ``zsearch --help``.
"""
