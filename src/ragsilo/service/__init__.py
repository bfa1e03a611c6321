"""The HTTP service: a FastAPI app over :class:`ragsilo.Silo`, with a small web page.

Only this package imports FastAPI; it needs the ``http`` extra
(``pip install "ragsilo[http]"``). Build the app with
:func:`ragsilo.service.app.create_app`; run it with ``ragsilo serve``.

This ``__init__`` imports nothing, so that importing a light module of the
package does not pull in FastAPI.
"""
