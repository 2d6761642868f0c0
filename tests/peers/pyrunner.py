"""Runs CPython test modules with unittest and writes one line per test
to the file given: "<test id> pass|fail|skip". Used by tests/peers/python.sh.
usage: python pyrunner.py OUTFILE MODULE..."""
import os
import sys
import unittest


class Recorder(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = []

    def _add(self, test, status):
        self.lines.append(f"{test.id()} {status}")

    def addSuccess(self, test):
        super().addSuccess(test)
        self._add(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._add(test, "fail")

    def addError(self, test, err):
        super().addError(test, err)
        self._add(test, "fail")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._add(test, "skip")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._add(test, "pass")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._add(test, "fail")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._add(subtest, "fail")


def without(suite, skipped, lines):
    """The suite less the tests named in `skipped`, each recorded as a skip."""
    kept = unittest.TestSuite()
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            kept.addTest(without(t, skipped, lines))
        elif t.id() in skipped:
            lines.append(f"{t.id()} skip")
        else:
            kept.addTest(t)
    return kept


def main():
    out, modules = sys.argv[1], sys.argv[2:]
    # timing-dependent tests that fail on a loaded machine with or
    # without the shim (tests/peers/python.sh names them and says why)
    skipped = set(filter(None, os.environ.get("PYRUNNER_SKIP", "").split()))
    from test import support
    support.verbose = False
    with open(out, "a") as f:
        for name in modules:
            try:
                suite = unittest.defaultTestLoader.loadTestsFromName(name)
            except Exception as e:  # an import error is the module failing
                print(f"{name} could not be loaded: {e}", file=sys.stderr)
                f.write(f"{name} fail\n")
                continue
            dropped = []
            suite = without(suite, skipped, dropped)
            runner = unittest.TextTestRunner(resultclass=Recorder, verbosity=1, stream=sys.stderr)
            result = runner.run(suite)
            f.write("".join(line + "\n" for line in dropped + result.lines))
            f.flush()


if __name__ == "__main__":
    main()
