"""The test API, routed only in a service made with create_app(..., testing=True) (MockServer,
`python -m service --testing`): every entry with its decoded sample (the project's, when an API
key is given; else every project's), and a reset of the key's project. The reset changes data,
so it takes an accepted API key like the Ingestion API. studio_api.py adds the few Studio REST
calls Edge Impulse's Linux client makes after its hello."""
from service import safety
from service.web import json_answer, text


def samples(app, request):
    project = safety.check_key(app.projects, request) if "x-api-key" in request.headers else None
    return json_answer(app.store.listing(project.name if project else None))


def reset(app, request):
    app.store.reset(request.project.name)
    return text(200, "")
