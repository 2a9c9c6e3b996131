"""The least of Studio's REST API that Edge Impulse's own remote-management client asks for
(testing only: routed with the test API). RemoteMgmt in the npm package edge-impulse-linux
(cli-common/remote-mgmt-service.js), once its hello is answered true, calls through the
Studio SDK (x-api-key, JSON):

    POST /v1/api/{projectId}/devices/create        {deviceId, deviceType, ifNotExists}
    GET  /v1/api/{projectId}/device/{deviceId}     -> {success, device: {deviceId, name, ...}}
    POST /v1/api/{projectId}/devices/{deviceId}/rename {name}  (only when a new name is chosen)
    GET  /v1/api/{projectId}                       -> {success, project: {id, name, whitelabelId}}

and does not go on (it never sets its `isConnected`) when one fails. The device itself appears
in /devices by its hello alone, as the official firmwares rely on; these calls only name it.
A projectId is the project's number (projects.py); the key must be that project's.
"""
from werkzeug.routing import Rule

from service.config import MAX_GONE_DEVICES
from service.remote import MAX_ID
from service.web import Rejected, json_answer, strict_json

RULES = [
    Rule("/v1/api/<digits:project_id>/devices/create", endpoint="studio.create_device", methods=["POST"]),
    Rule("/v1/api/<digits:project_id>/device/<path:device_id>", endpoint="studio.get_device", methods=["GET"]),
    Rule("/v1/api/<digits:project_id>/devices/<path:device_id>/rename", endpoint="studio.rename_device",
         methods=["POST"]),
    Rule("/v1/api/<digits:project_id>", endpoint="studio.project_info", methods=["GET"]),
]
_MAX_NAMED = 4 * MAX_GONE_DEVICES  # devices a project keeps a name for (testing only)


def _project(request, project_id):
    if request.project.id != project_id:
        raise Rejected(403, "Forbidden: the API key is not project %d's" % project_id)
    return request.project


def _body(request):
    if (request.content_length or 0) > 4096:
        raise Rejected(400, "The body must be JSON, at most 4096 bytes")
    body = strict_json(request.get_data(), "the body")
    if not isinstance(body, dict):
        raise Rejected(400, "The body must be a JSON object")
    return body


def _names(app, project):
    return app.device_names.setdefault(project.name, {})


def create_device(app, request, project_id):
    project = _project(request, project_id)
    body = _body(request)
    device_id = body.get("deviceId")
    if not isinstance(device_id, str) or not 0 < len(device_id) <= MAX_ID:
        raise Rejected(400, "deviceId must be a string of 1 to %d characters" % MAX_ID)
    names = _names(app, project)
    if device_id not in names and len(names) < _MAX_NAMED:
        names[device_id] = device_id
    return json_answer({"success": True})


def get_device(app, request, project_id, device_id):
    project = _project(request, project_id)
    name = _names(app, project).get(device_id)
    entry = app.devices.get(project.name, device_id)
    if name is None and entry is None:
        return json_answer({"success": False, "error": "No device with this ID found"}, 404)
    device = {"deviceId": device_id, "name": name or device_id,
              "deviceType": entry.device["device_type"] if entry else None,
              "remote_mgmt_connected": bool(entry and entry.link is not None)}
    return json_answer({"success": True, "device": device})


def rename_device(app, request, project_id, device_id):
    project = _project(request, project_id)
    name = _body(request).get("name")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_ID:
        raise Rejected(400, "name must be a string of 1 to %d characters" % MAX_ID)
    names = _names(app, project)
    if device_id in names or len(names) < _MAX_NAMED:
        names[device_id] = name
    return json_answer({"success": True})


def project_info(app, request, project_id):
    project = _project(request, project_id)
    return json_answer({"success": True, "project": {"id": project.id, "name": project.name,
                                                      "whitelabelId": None}})


VIEWS = {
    "studio.create_device": (create_device, "key"),
    "studio.get_device": (get_device, "key"),
    "studio.rename_device": (rename_device, "key"),
    "studio.project_info": (project_info, "key"),
}
