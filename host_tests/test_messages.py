"""The firmware's error texts live in ei/messages.py, each module raising a number of it
(`_M_NAME = const(n)`) and the values (ei.errors.Msg). Nothing at run time checks that a
number names the text meant, or that the text takes the values given: these do, over the
source, for every module and every Msg(...) call."""
import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
EI = ROOT / "firmware" / "ei"
CODE = re.compile(r"^_M_([A-Z0-9_]+) = const\((\d+)\)", re.M)
ENTRY = re.compile(r"#[ ]*(\d+)[ ]+([A-Z0-9_]+)[ ]*$", re.M)
CONVERSION = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdrxXif]")


def texts():
    """The texts (each a line of one of TEXTS' strings), and the name each one's comment
    gives it (in order)."""
    src = (EI / "messages.py").read_text()
    tree = ast.parse(src)
    [assign] = [n for n in tree.body if isinstance(n, ast.Assign)]
    parts = ast.literal_eval(assign.value)
    assert all(p.endswith("\n") for p in parts)
    return [t for p in parts for t in p.split("\n")[:-1]], ENTRY.findall(src)


def modules():
    return [p for p in sorted(EI.rglob("*.py")) if p.name != "messages.py"]


def codes(path):
    return {name: int(n) for name, n in CODE.findall(path.read_text())}


def test_each_text_is_named_by_a_comment_with_its_place():
    table, named = texts()
    assert len(named) == len(table)
    assert [int(n) for n, _ in named] == list(range(len(table)))
    names = [name for _, name in named]
    assert len(set(names)) == len(names), "a name given twice"
    assert all("%%" not in t for t in table)  # (a literal % would need care with no values)
    assert all(t for t in table)


def test_every_module_s_number_names_the_text_of_that_name():
    table, named = texts()
    where = {name: int(n) for n, name in named}
    for path in modules():
        for name, n in codes(path).items():
            assert name in where, "%s: _M_%s is not in messages.py" % (path.name, name)
            assert where[name] == n, "%s: _M_%s = %d, but messages.py has it at %d" % (
                path.name, name, n, where[name])


def test_every_text_is_raised_by_some_module():
    _, named = texts()
    used = set()
    for path in modules():
        used.update(codes(path))
    assert sorted(name for _, name in named if name not in used) == []


def test_every_msg_is_given_as_many_values_as_its_text_takes():
    table, named = texts()
    checked = 0
    for path in modules():
        own = codes(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "Msg" and node.args):
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Name) and first.id.startswith("_M_")):
                continue  # a number chosen at run time (a table of checks): its values vary
            assert not any(isinstance(a, ast.Starred) for a in node.args)
            n = own[first.id[3:]]
            want = len(CONVERSION.findall(table[n]))
            assert len(node.args) - 1 == want, "%s:%d: %s takes %d values, given %d" % (
                path.name, node.lineno, first.id, want, len(node.args) - 1)
            checked += 1
    assert checked > 50
