# Runs firmware test functions under the MicroPython unix port:
#   micropython mprun.py MODULE FUNC [FUNC ...]
# Prints PASS/FAIL per function; exits 1 if any failed. conftest.py drives it.
import sys


def main(argv):
    mod = __import__(argv[1])
    failed = 0
    for name in argv[2:]:
        try:
            getattr(mod, name)()
            print("PASS", name)
        except BaseException as e:  # report every failure, including AssertionError
            failed += 1
            print("FAIL", name)
            sys.print_exception(e)
    sys.exit(1 if failed else 0)


main(sys.argv)
