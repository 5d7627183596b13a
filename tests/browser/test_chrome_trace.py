#!/usr/bin/env python3
"""Opens `pyagent export --format chrome` output in headless Chromium and validates it as
Trace Event Format in the page's own JavaScript: the object form with a traceEvents array;
every event has ph, pid, tid and ts; complete (X) events have dur >= 0 and nest properly
on each thread; instants have a scope; counters have numeric args; every tid with events
has a thread_name metadata event and the process a process_name. The page reports
PASS or the problems in the DOM; the test also wants no console errors, no exceptions
and no network requests. Traces: pa_calls_trace_gen's trace-mode trace (calls, regions,
marks, counters, pause/resume), its sampling-only trace, and a trace whose names and mark
fields try to break out of JSON strings and script elements.

Usage: test_chrome_trace.py --chromium PATH --gen PATH --cli PATH [--allow-missing-browser] [--keep]
Exit status 0 when every check passed, 1 otherwise.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium import Browser, Failure, Page  # noqa: E402

VALIDATOR = r'''
(function () {
  const problems = [];
  const fail = (msg) => { if (problems.length < 50) problems.push(msg); };
  let doc;
  try {
    doc = JSON.parse(document.getElementById('trace').textContent);
  } catch (e) {
    fail('not JSON: ' + e.message);
  }
  const isNum = (v) => typeof v === 'number' && isFinite(v);
  const stats = { events: 0, X: 0, i: 0, C: 0, M: 0, threads: [] };
  if (doc) {
    if (typeof doc !== 'object' || Array.isArray(doc) || !Array.isArray(doc.traceEvents))
      fail('not the object form with a traceEvents array');
    if (doc.displayTimeUnit !== 'ns' && doc.displayTimeUnit !== 'ms')
      fail('displayTimeUnit is ' + doc.displayTimeUnit);
  }
  const evs = doc && Array.isArray(doc.traceEvents) ? doc.traceEvents : [];
  const names = new Map(), used = new Set(), xs = new Map();
  let processName = false;
  evs.forEach((e, k) => {
    stats.events++;
    if (typeof e.ph !== 'string' || !isNum(e.pid) || !isNum(e.tid) || !isNum(e.ts)) {
      fail('event ' + k + ' lacks ph/pid/tid/ts: ' + JSON.stringify(e).slice(0, 200));
      return;
    }
    if (e.ts < 0) fail('event ' + k + ' has ts < 0');
    const key = e.pid + '/' + e.tid;
    stats[e.ph] = (stats[e.ph] || 0) + 1;
    if (e.ph === 'M') {
      if (e.name === 'thread_name') {
        if (!e.args || typeof e.args.name !== 'string') fail('thread_name without args.name');
        else names.set(key, e.args.name);
      } else if (e.name === 'process_name') {
        processName = !!(e.args && typeof e.args.name === 'string');
      }
      return;
    }
    used.add(key);
    if (typeof e.name !== 'string') fail('event ' + k + ' (' + e.ph + ') has no name');
    if (e.ph === 'X') {
      if (!isNum(e.dur) || e.dur < 0) fail('X event ' + k + ' has dur ' + e.dur);
      if (!xs.has(key)) xs.set(key, []);
      /* Integer nanoseconds: ts and dur are microseconds with three decimals. */
      xs.get(key).push({ s: Math.round(e.ts * 1000), e: Math.round((e.ts + e.dur) * 1000), k: k, name: e.name });
    } else if (e.ph === 'i' || e.ph === 'I') {
      if (e.s !== undefined && !['t', 'p', 'g'].includes(e.s)) fail('instant ' + k + ' has scope ' + e.s);
    } else if (e.ph === 'C') {
      if (!e.args || typeof e.args !== 'object' || !Object.values(e.args).every(isNum))
        fail('counter ' + k + ' has non-numeric args');
    } else if (!['B', 'E', 'b', 'e', 'n'].includes(e.ph)) {
      fail('event ' + k + ' has unexpected ph ' + e.ph);
    }
  });
  if (!processName) fail('no process_name metadata');
  for (const key of used)
    if (!names.has(key)) fail('no thread_name for ' + key);
  for (const [key, list] of xs) {
    list.sort((a, b) => a.s - b.s || b.e - a.e || a.k - b.k);
    const open = [];
    for (const x of list) {
      /* Ended before this one starts; a zero-length call at its parent's end stays inside. */
      while (open.length && (open[open.length - 1].e < x.s || (open[open.length - 1].e === x.s && x.e > x.s)))
        open.pop();
      const top = open[open.length - 1];
      if (top && x.e > top.e)
        fail(key + ': ' + x.name + ' [' + x.s + ', ' + x.e + '] overlaps ' + top.name + ' [' + top.s + ', ' + top.e + ']');
      open.push(x);
    }
  }
  stats.threads = Array.from(names.values()).sort();
  const out = document.getElementById('result');
  if (problems.length) {
    problems.forEach((p) => console.error('trace: ' + p));
    out.textContent = 'FAIL\n' + problems.join('\n');
  } else {
    out.textContent = 'PASS ' + JSON.stringify(stats);
  }
})();
'''


def page_for(trace_json, path):
    """A validator page with the trace embedded. "<" can only be inside JSON strings, so
    it becomes the escape \\u003c there: no "</script" or "<!--" reaches the HTML parser,
    and the parsed JSON is unchanged."""
    data = trace_json.replace('<', '\\u003c')
    html = ('<!doctype html><html><head><meta charset="utf-8"><title>trace validator</title></head><body>'
            '<pre id="result">pending</pre>'
            '<script type="application/json" id="trace">' + data + '</script>'
            '<script>' + VALIDATOR + '</script></body></html>')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(html)
    return 'file://' + path


class Checker:
    def __init__(self, page):
        self.page, self.failed = page, 0

    def check(self, ok, what):
        print('%s: %s' % ('ok' if ok else 'FAIL', what))
        if not ok:
            self.failed += 1
        return ok

    def no_errors(self, what):
        b = self.page.b
        self.check(not b.errors, 'no console errors or exceptions (%s)%s' % (what, ''.join('\n    ' + e for e in b.errors)))
        foreign = [u for u in b.requests if not u.startswith(('file:', 'data:', 'about:'))]
        self.check(not foreign, 'no network requests (%s)%s' % (what, ''.join('\n    ' + u for u in foreign)))
        b.errors.clear()

    def validate(self, url, what):
        self.page.load(url)
        result = self.page.wait_js("(() => { const t = document.getElementById('result').textContent;"
                                   " return t === 'pending' ? '' : t; })()")
        self.check(result.startswith('PASS '), '%s: the page validates the trace (%s)' % (what, result[:2000]))
        self.no_errors(what)
        return json.loads(result[5:]) if result.startswith('PASS ') else {}


def export(cli, trace, out):
    r = subprocess.run([cli, 'export', trace, '--format', 'chrome', '-o', out], capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure('pyagent export failed (%d): %s' % (r.returncode, r.stderr))
    with open(out, encoding='utf-8') as f:
        return f.read()


def run_checks(page, args, tmp):
    c = Checker(page)
    calls, samples = os.path.join(tmp, 'calls.trace'), os.path.join(tmp, 'samples.trace')
    subprocess.run([args.gen, 'calls', calls], check=True)
    subprocess.run([args.gen, 'samples', samples], check=True)

    text = export(args.cli, calls, os.path.join(tmp, 'calls.json'))
    stats = c.validate(page_for(text, os.path.join(tmp, 'calls.html')), 'trace-mode trace')
    c.check(stats.get('X') == 11, 'nine calls and two regions as complete events (%s)' % stats.get('X'))
    c.check(stats.get('i') == 3 and stats.get('C') == 2, 'one mark, two toggles and two counter values')
    c.check(stats.get('threads') == ['MainThread', 'MainThread regions', 'worker'],
            'thread names (%s)' % stats.get('threads'))

    # The validator must be able to fail: a call sticking out of its parent, a missing
    # thread name and a negative duration are reported, with console errors.
    broken = json.loads(text)
    evs = broken['traceEvents']
    req = next(e for e in evs if e.get('ph') == 'X' and e['name'] == 'Handler.parse')
    req['dur'] += 1000
    evs.append({'ph': 'X', 'pid': 4242, 'tid': 999, 'ts': 1.0, 'dur': -1, 'name': 'orphan'})
    page.load(page_for(json.dumps(broken), os.path.join(tmp, 'broken.html')))
    result = page.wait_js("(() => { const t = document.getElementById('result').textContent;"
                          " return t === 'pending' ? '' : t; })()")
    c.check(result.startswith('FAIL') and 'overlaps' in result and 'no thread_name for 4242/999' in result
            and 'has dur -1' in result, 'a broken trace is reported (%r)' % result[:300])
    c.check(any('overlaps' in e for e in page.b.errors), 'and logged as console errors')
    page.b.errors.clear()

    text = export(args.cli, samples, os.path.join(tmp, 'samples.json'))
    stats = c.validate(page_for(text, os.path.join(tmp, 'samples.html')), 'sampling-only trace')
    c.check(stats.get('i') == 7 and not stats.get('X'), 'seven samples as instant events (%s)' % stats)
    c.check(stats.get('threads') == ['MainThread', 'worker'], 'thread names (%s)' % stats.get('threads'))

    hostile = os.path.join(tmp, 'hostile.trace')
    subprocess.run([args.gen, 'hostile', hostile], check=True)
    text = export(args.cli, hostile, os.path.join(tmp, 'hostile.json'))
    stats = c.validate(page_for(text, os.path.join(tmp, 'hostile.html')), 'hostile names')
    c.check(stats.get('X') == 6 and stats.get('i') == 2 and stats.get('C') == 1, 'every event kept (%s)' % stats)
    c.check(page.js('window.__pwned') is None and page.js('document.scripts.length') == 2, 'no script injected')
    name = page.js("JSON.parse(document.getElementById('trace').textContent).traceEvents"
                   ".find((e) => e.ph === 'X' && e.cat === 'python').name")
    c.check(name == 'evil</script><script>window.__pwned=1</script>"\n\t\x01\ufffd\ufffd',
            'a hostile name round-trips as text (%r)' % name)
    args_ = page.js("JSON.parse(document.getElementById('trace').textContent).traceEvents"
                    ".filter((e) => e.cat === 'mark').map((e) => e.args)")
    c.check(args_ == [{'html': '</script><!--', 'n': [1000]}, {'fields_text': 'not json </script>'}],
            'mark fields: an object as args, anything else as text (%r)' % args_)
    return c.failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--gen', required=True, help='pa_calls_trace_gen: writes the synthetic traces')
    ap.add_argument('--cli', required=True, help='the pyagent reader')
    ap.add_argument('--allow-missing-browser', action='store_true', help='pass (with a notice) when Chromium is absent')
    ap.add_argument('--keep', action='store_true', help='keep the temporary directory')
    args = ap.parse_args()

    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        if args.allow_missing_browser:
            print('SKIPPED: no Chromium at %s (--allow-missing-browser)' % args.chromium)
            return 0
        print('FAIL: no Chromium at %s: install it (apt-get install chromium) or pass --chromium PATH'
              % args.chromium, file=sys.stderr)
        return 1
    for tool in (args.gen, args.cli):
        if not os.access(tool, os.X_OK):
            print('FAIL: no executable at %s' % tool, file=sys.stderr)
            return 1

    tmp = tempfile.mkdtemp(prefix='pa-chrome-trace-')
    browser, failed = None, 1
    try:
        browser = Browser(args.chromium, tmp)
        failed = run_checks(Page(browser), args, tmp)
    except (Failure, subprocess.CalledProcessError, OSError) as e:
        print('FAIL: %s' % e, file=sys.stderr)
        failed = max(failed, 1)
    finally:
        if browser:
            browser.close()
        if failed and browser:
            with open(browser.log_path, 'rb') as f:
                sys.stderr.write(f.read()[-3000:].decode(errors='replace'))
        if args.keep:
            print('kept %s' % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print('%s: %d check(s) failed' % ('FAIL' if failed else 'PASS', failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
