"""How the firmware's modules meet: the import graph of firmware/ei (every import, those
inside functions too, and the daemon's commands it loads by name) has no circle, and no
module reads another's private names (obj._x, `from ei.m import _x`): each meets the others
at public names, so a reader can change a module's insides without reading the rest.

A package's imports of its own submodules (ei/__init__.py's lazy names, ei.sensors' drivers)
are left out of the circles: Python imports a package before any of its submodules, so a
submodule importing from its package cannot find it half made."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
EI = ROOT / "firmware" / "ei"
# the modules that import each other, each circle with why it is so; no other may
KNOWN_CIRCLES = {
    # a WebSocket loads its opening and its reading when they run (ei.Remote forgets them
    # while it samples and uploads); they raise the WebSocket's errors, which stay in
    # ei.websocket so that each is one class however often they are loaded again.
    frozenset(("ei.websocket", "ei.websocket_open", "ei.websocket_read")),
}


def modules():
    """{name: path} of every firmware module."""
    found = {}
    for p in sorted(EI.rglob("*.py")):
        parts = p.relative_to(EI.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return found


def _commands(tree):
    """The values of at_server's COMMANDS table: the ei.at_<module>s it loads by name."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "COMMANDS"):
            return {"ei.at_" + v.value for v in node.value.values}
    return set()


def imports(name, path, known):
    """The firmware modules that module `name` imports, wherever the import is."""
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: from . import x
                base = ".".join(name.split(".")[:len(name.split(".")) - node.level + 1]
                                + ([node.module] if node.module else []))
            out.add(base)
            out.update(base + "." + a.name for a in node.names if base + "." + a.name in known)
    if name == "ei.at_server":
        out |= _commands(tree)
    if name == "ei":  # the lazy names: module __getattr__'s table
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                out.update("ei." + v.value for v in node.values if isinstance(v, ast.Constant))
    return {m for m in out if m in known and m != name}


def graph():
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def circles(g):
    """Each set of modules that import each other, through any path (a package's edges to
    its own submodules left out)."""
    g = {a: {b for b in bs if not b.startswith(a + ".")} for a, bs in g.items()}

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for m in g[todo.pop()] - seen:
                seen.add(m)
                todo.append(m)
        return seen

    reached = {a: reach(a) for a in g}
    # a circle: the modules that reach each other (a strongly connected part of the graph)
    return {frozenset([a] + [b for b in reached[a] if a in reached[b]])
            for a in g if a in reached[a]}


def test_the_graph_sees_imports_inside_functions_and_the_daemons_commands():
    g = graph()
    assert "ei.acquisition" in g["ei.sampler"]       # at the top
    assert "ei.capture" in g["ei.acquisition"]       # inside Sample.from_capture
    assert "ei.at_sample" in g["ei.at_server"]       # loaded by name, from COMMANDS
    assert "ei.at_usage" in g["ei.at_common"]        # inside arguments(), on a mistake
    assert "ei.startup" in g["ei"]                   # ei.boot, a lazy name
    assert "ei.sensors.mpu6050" in g["ei.sensors"]   # a package's own submodule


def test_no_import_circles_but_the_known_ones():
    found = circles(graph())
    assert found - KNOWN_CIRCLES == set(), sorted(sorted(c) for c in found - KNOWN_CIRCLES)
    # a circle broken since is taken off the list
    assert KNOWN_CIRCLES - found == set(), sorted(sorted(c) for c in KNOWN_CIRCLES - found)


def test_capture_and_acquisition_do_not_import_each_other():
    g = graph()
    assert "ei.acquisition" not in g["ei.capture"]


# Modules that hold a class's methods, moved out of it so that their code is loaded only
# for the step that runs them (and forgotten after): their functions take the instance as
# the first argument, named as here, and read its private names as its methods would.
STEP_MODULES = {
    "ei.websocket_open": "ws",   # ei.websocket.WebSocket's opening
    "ei.websocket_read": "ws",   # ... and its reading
    "ei.remote_session": "r",    # ei.remote_mgmt.Remote's session
    "ei.remote_check": "r",      # ... and its checks
    "ei.remote_record": "r",     # ... and its recording of a sample request
    "ei.sample_check": "s",      # ei.acquisition.Sample's checks, as it is made
    "ei.client_check": "c",      # ei.client.Client's checks, as it is made
    "ei.capture_rows": "cap",  # ei.capture.Capture's rows, read as floats or converted
}


def private_reads(path, owner=None):
    """(line, text) of each read of another object's or module's private name in the file:
    x._name where x is not self or cls (or `owner`, in a step module), getattr(x, "_name"),
    from m import _name."""
    found = []
    mine = ("self", "cls", owner)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and \
                not node.attr.startswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in mine):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
                "getattr", "setattr", "hasattr") and len(node.args) > 1 and \
                isinstance(node.args[1], ast.Constant) and \
                str(node.args[1].value).startswith("_") and \
                not str(node.args[1].value).startswith("__"):
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ei"):
            found.extend((node.lineno, "from %s import %s" % (node.module, a.name))
                         for a in node.names if a.name.startswith("_"))
    return found


def test_no_module_reads_another_modules_private_names():
    bad = {}
    for name, path in modules().items():
        reads = private_reads(path, STEP_MODULES.get(name))
        if reads:
            bad[name] = reads
    assert bad == {}, bad


def test_the_private_name_check_finds_each_kind_of_read(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("from ei.files import _chunks\nconn._ms = 1\nx = getattr(c, '_home')\n"
                 "self._ok = 1\nclass A:\n    def f(cls):\n        return cls._x\n")
    assert [line for line, _ in private_reads(p)] == [1, 2, 3]
