"""The test API, routed only in a service made with create_app(..., testing=True) (MockServer,
`python -m service --testing`): every entry with its decoded sample, and a reset. The reset
changes data, so it takes an accepted API key like the Ingestion API."""
from service.web import json_answer, text


def samples(app, request):
    return json_answer(app.store.listing())


def reset(app, request):
    app.store.reset()
    return text(200, "")
