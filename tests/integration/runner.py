"""The loop every integration script shares: runs the registered test functions whose
name contains a filter, one line each (time, or the traceback), then a count."""
import time
import traceback


def run_tests(tests, label, only=None):
    """Runs tests (functions of no argument). @return the number that failed."""
    passed = failed = 0
    for fn in tests:
        if only and only not in fn.__name__:
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print("ok   %s (%.1fs)" % (fn.__name__, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s\n%s" % (fn.__name__, traceback.format_exc()), flush=True)
    print("%s: %d passed, %d failed" % (label, passed, failed))
    return failed
