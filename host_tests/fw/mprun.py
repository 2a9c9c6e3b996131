# Runs firmware test functions under MicroPython, all in this one process:
#   micropython mprun.py MODULE FUNC [FUNC ...]
# Each function's output (its prints, then its traceback if it failed) is framed by
#   \x1eRUN FUNC  ...  \x1ePASS FUNC  or  \x1eFAIL FUNC
# on lines of their own, so conftest.py can give each test its own result and output, and can
# tell which test was running when the process died. Then the module's teardown_module(), if
# it has one, as pytest calls it in its own process. Exits 1 if any failed.
import sys

_MARK = "\x1e"  # ASCII record separator: no test prints it


def main(argv):
    mod = __import__(argv[1])
    failed = 0
    for name in argv[2:]:
        print(_MARK + "RUN", name)
        try:
            getattr(mod, name)()
            print("\n" + _MARK + "PASS", name)
        except BaseException as e:  # report every failure, including AssertionError
            failed += 1
            sys.print_exception(e)
            print("\n" + _MARK + "FAIL", name)
    teardown = getattr(mod, "teardown_module", None)
    if teardown is not None:
        teardown()
    sys.exit(1 if failed else 0)


main(sys.argv)
