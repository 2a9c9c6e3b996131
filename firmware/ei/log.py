# One voice for the board's diagnostics: log(level, text) prints "ei: <level>: text" when the
# level is at or above `threshold`. A program (or a test) that wants the lines elsewhere sets
# `handler` to a function(level, text). Never give it a secret.
from ei.compat import const

INFO = const(20)
WARNING = const(30)
ERROR = const(40)
_NAMES = {INFO: "info", WARNING: "warning", ERROR: "error"}

threshold = INFO
handler = None


def log(level, text):
    if level < threshold:
        return
    if handler is not None:
        handler(level, text)
    else:
        print("ei: %s: %s" % (_NAMES.get(level, level), text))
