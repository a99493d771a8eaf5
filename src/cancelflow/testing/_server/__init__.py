"""The fake Stripe over loopback HTTP: ``cancelflow fake serve`` and ``FakeStripe.serve()``.

Owns the HTTP side of the fake and nothing of its behaviour: requests to
``/v1/…`` go to the same request pipeline as the in-process HTTP client, the
portal pages act through the same portal driver as ``fake.portal.visit``, and
events reach ``--forward-to`` endpoints through the fake's own webhook
endpoints. Modules:

* ``protocol`` — HTTP/1.1 with keep-alive on a socket: requests in, responses out;
* ``server`` — :class:`~cancelflow.testing.FakeServer`: binding, threads, routing,
  start and stop;
* ``account`` — every change made over HTTP, in one place, so that a journal can
  replay it;
* ``state`` — the ``--state`` file: the journal, written atomically, versioned;
* ``forward`` — signed webhook deliveries to URLs, retried with back-off;
* ``pages``, ``html``, ``wording`` — the portal's pages, their escaping
  templates, and their text in English and French (``assets/`` holds the
  templates and the style sheet, shipped as package data);
* ``controls`` — fake-only endpoints (``/_cancelflow/…``: the clock).

May import: the rest of ``cancelflow.testing``, ``cancelflow.exceptions`` and
``cancelflow._stripe.labels``.
"""
