#!/usr/bin/env python3
"""Opens pages made by pa_flame_html in headless Chromium and checks them: no console
errors or exceptions, no network requests, hostile frame names shown as text, the hottest
frame visible and following the thread/event selection (URL hash and selectors), search
highlighting, tooltip, zoom, and speed with 50k stacks. Python 3 stdlib only; Chromium is
driven through the DevTools protocol over --remote-debugging-pipe.

Usage: test_flamegraph_html.py --chromium PATH --tool PATH [--allow-missing-browser]
                               [--screenshot OUT.png] [--keep]
Exit status 0 when every check passed, 1 otherwise.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium import Browser, Failure, Page  # noqa: E402

HOSTILE = 'evil </script><script>window.__pwned=1</script><!-- <script> (evil.py:1)'
QUOTES = 'quote "double" \'single\' `back` \\ & &amp; (q.py:3)'
UNICODE = 'ünïcødé_函数_🔥\u2028sep (u.py:4)'


# ---------------------------------------------------------------- profiles

def synthetic_blob():
    """Two threads, two events, a designed hottest frame for every selection, hostile
    names, and filler stacks that never come close to the hottest."""
    frames = ['<module> (app.py:1)', 'main (app.py:10)', 'spin_hot (app.py:5)', QUOTES, UNICODE,
              'alloc_pages (mem.py:7)', 'worker_run (worker.py:2)', 'worker_loop (worker.py:20)',
              HOSTILE]
    ms = 1000000
    stacks = [
        {'t': 0, 'f': [0, 1, 2], 'v': [600 * ms, 5]},
        {'t': 0, 'f': [0, 1, 3], 'v': [150 * ms, 2]},
        {'t': 0, 'f': [0, 1, 4], 'v': [100 * ms, 1]},
        {'t': 0, 'f': [0, 1, 5], 'v': [50 * ms, 300]},
        {'t': 1, 'f': [6, 7], 'v': [400 * ms, 10]},
        {'t': 1, 'f': [6, 7, 8], 'v': [100 * ms, 500]},
    ]
    rnd = random.Random(7)
    for i in range(200):
        frames.append('filler_%d (lib/filler.py:%d)' % (i, i))
    for _ in range(2000):
        path = [0, 1] + [9 + rnd.randrange(200) for _ in range(rnd.randrange(1, 6))]
        stacks.append({'t': rnd.randrange(2), 'f': path, 'v': [rnd.randrange(1, 20000), rnd.randrange(0, 2)]})
    return {'title': 'python3 app.py </script> "quoted" (pid 123)', 'events': ['task-clock', 'page-faults'],
            'unit': ['ns', 'count'], 'threads': [{'name': 'MainThread', 'tid': 123}, {'name': 'worker-1', 'tid': 124}],
            'stacks': stacks, 'frames': frames}


def hottest(blob, thread, event):
    """Independent reference: the frame with the largest self value, and its share."""
    self_v, total = {}, 0
    for st in blob['stacks']:
        if thread >= 0 and st['t'] != thread:
            continue
        v = st['v'][event]
        if v <= 0:
            continue
        total += v
        if st['f']:
            self_v[st['f'][-1]] = self_v.get(st['f'][-1], 0) + v
    f = max(self_v, key=lambda k: (self_v[k], -k))
    return blob['frames'][f], 100.0 * self_v[f] / total


def matched_share(blob, thread, event, needle):
    """Share of the selection under any frame whose name contains needle."""
    hit = [needle.lower() in f.lower() for f in blob['frames']]
    total = matched = 0
    for st in blob['stacks']:
        if (thread < 0 or st['t'] == thread) and st['v'][event] > 0:
            total += st['v'][event]
            matched += st['v'][event] if any(hit[f] for f in st['f']) else 0
    return 100.0 * matched / total


def big_blob(n_stacks=50000, n_frames=4000):
    rnd = random.Random(11)
    frames = ['fn_%d (pkg/mod_%d.py:%d)' % (i, i % 97, i) for i in range(n_frames)]
    seen, stacks = set(), []
    while len(stacks) < n_stacks:
        path = tuple(rnd.randrange(n_frames) if d > 2 else d for d in range(rnd.randrange(4, 30)))
        if path in seen:
            continue
        seen.add(path)
        stacks.append({'t': rnd.randrange(4), 'f': list(path), 'v': [rnd.randrange(1, 10**7), rnd.randrange(0, 50)]})
    return {'title': 'big (50k stacks)', 'events': ['task-clock', 'page-faults'], 'unit': ['ns', ''],
            'threads': [{'name': 'T%d' % i, 'tid': 1000 + i} for i in range(4)], 'stacks': stacks, 'frames': frames}


def realistic_blob():
    """A plausible web-server profile for the README screenshot: random walks over a
    call graph, merged into unique stacks as the reader would."""
    rnd = random.Random(3)
    py = lambda name, f, line: '%s (%s:%d)' % (name, f, line)
    graph = {
        'root0': [(py('<module>', 'app.py', 1), 1)],
        py('<module>', 'app.py', 1): [(py('main', 'app.py', 88), 1)],
        py('main', 'app.py', 88): [(py('serve_forever', 'socketserver.py', 233), 9), (py('load_config', 'config.py', 12), 1)],
        py('load_config', 'config.py', 12): [(py('safe_load', 'yaml/__init__.py', 117), 1)],
        py('safe_load', 'yaml/__init__.py', 117): [(py('get_single_data', 'yaml/constructor.py', 47), 1)],
        py('serve_forever', 'socketserver.py', 233): [(py('_handle_request_noblock', 'socketserver.py', 311), 8),
                                                      (py('select', 'selectors.py', 415), 1)],
        py('select', 'selectors.py', 415): [('epoll_wait (libc.so.6)', 1)],
        py('_handle_request_noblock', 'socketserver.py', 311): [(py('finish_request', 'socketserver.py', 360), 1)],
        py('finish_request', 'socketserver.py', 360): [(py('handle', 'http/server.py', 432), 1)],
        py('handle', 'http/server.py', 432): [(py('parse_request', 'http/server.py', 269), 1), (py('do_GET', 'app.py', 51), 7)],
        py('parse_request', 'http/server.py', 269): [(py('parse_headers', 'http/client.py', 224), 1)],
        py('do_GET', 'app.py', 51): [(py('query_orders', 'db.py', 30), 4), (py('render_page', 'views.py', 18), 5),
                                    (py('dumps', 'json/__init__.py', 231), 2)],
        py('query_orders', 'db.py', 30): [('sqlite3VdbeExec (libsqlite3.so.0)', 3), (py('_row_factory', 'db.py', 12), 2)],
        py('_row_factory', 'db.py', 12): [(py('__init__', 'models.py', 20), 1)],
        py('render_page', 'views.py', 18): [(py('render', 'template.py', 140), 1)],
        py('render', 'template.py', 140): [(py('_render_node', 'template.py', 98), 1)],
        py('_render_node', 'template.py', 98): [(py('_render_node', 'template.py', 98), 1), (py('escape', 'html/__init__.py', 19), 2),
                                                 (py('format_price', 'views.py', 9), 1)],
        py('format_price', 'views.py', 9): [(py('quantize', 'decimal.py', 2419), 1)],
        py('dumps', 'json/__init__.py', 231): [(py('encode', 'json/encoder.py', 199), 1)],
        py('encode', 'json/encoder.py', 199): [(py('iterencode', 'json/encoder.py', 257), 1)],
        py('iterencode', 'json/encoder.py', 257): [('PyUnicode_Join (libpython3.11.so)', 1)],
        'root1': [(py('_bootstrap', 'threading.py', 995), 1)],
        py('_bootstrap', 'threading.py', 995): [(py('_bootstrap_inner', 'threading.py', 1038), 1)],
        py('_bootstrap_inner', 'threading.py', 1038): [(py('run', 'threading.py', 975), 1)],
        py('run', 'threading.py', 975): [(py('_worker', 'concurrent/futures/thread.py', 83), 1)],
        py('_worker', 'concurrent/futures/thread.py', 83): [(py('run', 'concurrent/futures/thread.py', 58), 1)],
        py('run', 'concurrent/futures/thread.py', 58): [(py('resize_image', 'images.py', 33), 3), (py('send_mail', 'mail.py', 14), 1)],
        py('resize_image', 'images.py', 33): [('inflate (libz.so.1)', 2), (py('_resample', 'images.py', 70), 3)],
        py('_resample', 'images.py', 70): [(py('lerp', 'images.py', 61), 2), ('memcpy (libc.so.6)', 1)],
        py('send_mail', 'mail.py', 14): [(py('sendall', 'ssl.py', 1241), 1)],
    }
    frames, index, merged = [], {}, {}
    for thread, root, n in ((0, 'root0', 2600), (1, 'root1', 900), (2, 'root1', 700)):
        for _ in range(n):
            node, path = root, []
            while node in graph and len(path) < 40:
                callees = graph[node]
                # Mostly self time at the leaves, a little in the callers, as in real programs.
                if node != root and rnd.random() < 0.03:
                    break
                node = rnd.choices([c for c, _ in callees], [w for _, w in callees])[0]
                path.append(index.setdefault(node, len(index)))
            key = (thread, tuple(path))
            v = merged.setdefault(key, [0, 0])
            v[0] += 1000000 + rnd.randrange(200000)
            v[1] += rnd.randrange(3) if 'images' in node or 'lib' in node else 0
    frames = sorted(index, key=index.get)
    stacks = [{'t': t, 'f': list(p), 'v': v} for (t, p), v in sorted(merged.items())]
    return {'title': 'python3 server.py --port 8080 (pid 4242)', 'events': ['task-clock', 'page-faults'],
            'unit': ['ns', ''], 'stacks': stacks, 'frames': frames,
            'threads': [{'name': 'MainThread', 'tid': 4242}, {'name': 'ThreadPoolExecutor-0_0', 'tid': 4250},
                        {'name': 'ThreadPoolExecutor-0_1', 'tid': 4251}]}


# ---------------------------------------------------------------- checks

HIGHLIGHT_PIXELS = '''(() => { const c = document.getElementById('canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] === 230 && d[i + 1] === 0 && d[i + 2] === 230) n++;
  return n; })()'''


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

    def hottest_is(self, blob, thread, event, what):
        name, share = hottest(blob, thread, event)
        text = self.page.js('document.body.innerText')
        line = self.page.js("document.getElementById('hottest').innerText")
        m = re.search(r'([\d.]+)%', line[len('Hottest (self): ') + len(name):] if name in line else '')
        self.check(name in text and name in line and m and abs(float(m.group(1)) - share) < 0.051,
                   '%s: hottest is %r at %.1f%% (page says %r)' % (what, name, share, line))


def run_checks(page, tool, tmp, blob, url_of):
    c = Checker(page)
    page.load(url_of(blob, 'synthetic'))
    c.no_errors('load')
    c.hottest_is(blob, -1, 0, 'all threads, task-clock')
    c.check(page.js('window.__pwned') is None and page.js('document.scripts.length') == 2,
            'hostile names did not inject a script')
    c.check(page.js("JSON.stringify(JSON.parse(document.getElementById('pa-data').textContent))")
            == json.dumps(blob, ensure_ascii=False, separators=(',', ':')), 'embedded data round-trips exactly')
    c.check(page.js('document.title').startswith(blob['title']) and
            page.js("document.getElementById('title').textContent") == blob['title'], 'title shown as text')
    top = page.js("document.getElementById('top').innerText")
    c.check(all(n in top for n in (QUOTES, 'spin_hot (app.py:5)')), 'top table lists frames as text')

    # Selection from the URL hash, on a fresh load and as a same-document change.
    base = url_of(blob, 'synthetic')
    for th, ev in ((1, 0), (0, 1), (1, 1)):
        page.load('%s#thread=%d&event=%d' % (base, th, ev))
        c.hottest_is(blob, th, ev, 'loaded with #thread=%d&event=%d' % (th, ev))
    c.check(HOSTILE in page.js('document.body.innerText'), 'hostile name visible as plain text')
    page.js("location.hash = 'thread=all&event=page-faults'")
    page.wait_js("document.getElementById('event').value === '1'")
    c.hottest_is(blob, -1, 1, 'hash change to thread=all&event=page-faults')
    c.check(page.js("document.getElementById('hottest').innerText").endswith('(500)'), 'a "count" event shows bare numbers')

    # Selection from the controls, reflected in the hash.
    page.js("(() => { const s = document.getElementById('thread'); s.value = '1';"
            " s.dispatchEvent(new Event('change')); const e = document.getElementById('event');"
            " e.value = '0'; e.dispatchEvent(new Event('change')); })()")
    c.hottest_is(blob, 1, 0, 'thread and event selectors')
    c.check(page.js('location.hash') == '#thread=1', 'hash follows the selectors (%s)' % page.js('location.hash'))
    page.js("(() => { const s = document.getElementById('thread'); s.value = '-1';"
            " s.dispatchEvent(new Event('change')); })()")
    c.hottest_is(blob, -1, 0, 'back to all threads')

    # Search: typed for real; the share counts nested matches once.
    c.check(page.js(HIGHLIGHT_PIXELS) == 0, 'nothing highlighted before a search')
    page.js("document.getElementById('search').focus()")
    page.cmd('Input.insertText', {'text': 'spin_hot'})
    matched = page.wait_js("document.getElementById('matched').innerText")
    share = matched_share(blob, -1, 0, 'spin_hot')
    c.check(('%.1f%%' % share) in matched, 'search shows the matched share (%r)' % matched)
    c.check(page.js(HIGHLIGHT_PIXELS) > 50, 'search highlights the matching frame')
    c.check('search=spin_hot' in page.js('location.hash'), 'search kept in the hash')
    page.js("(() => { const s = document.getElementById('search'); s.value = 'main (app';"
            " s.dispatchEvent(new Event('input')); })()")
    matched = page.js("document.getElementById('matched').innerText")
    share = matched_share(blob, -1, 0, 'main (app')
    c.check(('%.1f%%' % share) in matched and share > 50, 'an ancestor frame counts each sample once (%r)' % matched)
    page.js("(() => { const s = document.getElementById('search'); s.value = '/(/';"
            " s.dispatchEvent(new Event('input')); })()")
    c.check(page.js("document.getElementById('matched').innerText") == 'invalid regex', 'bad regex reported')
    page.js("(() => { const s = document.getElementById('search'); s.value = '';"
            " s.dispatchEvent(new Event('input')); })()")
    c.check(page.js(HIGHLIGHT_PIXELS) == 0, 'clearing the search clears the highlight')
    c.no_errors('selection and search')

    # Tooltip and zoom with real mouse events.
    r = page.js("pyagentFlame.locate('main (app.py:10)')")
    c.check(r is not None and r['w'] > 100, 'main frame drawn wide (%s)' % r)
    page.mouse('mouseMoved', r['x'] + 5, r['y'] + r['h'] / 2)
    tip = page.js("(() => { const t = document.getElementById('tip'); return t.hidden ? '' : t.innerText; })()")
    c.check('main (app.py:10)' in tip and ' ms' in tip and '% of total' in tip, 'tooltip on hover (%r)' % tip)
    c.check('main (app.py:10)' in page.js("document.getElementById('status').innerText"), 'status line on hover')
    before = page.js("pyagentFlame.locate('spin_hot (app.py:5)')")['w']
    page.click(r['x'] + 5, r['y'] + r['h'] / 2)
    after = page.js("pyagentFlame.locate('spin_hot (app.py:5)')")['w']
    c.check(after > before * 1.05, 'click zooms in (spin_hot %.0f -> %.0f px)' % (before, after))
    crumbs = page.js("document.getElementById('crumbs').innerText")
    c.check('main (app.py:10)' in crumbs and page.js('location.hash').startswith('#zoom='),
            'breadcrumb and hash show the zoom (%r, %s)' % (crumbs, page.js('location.hash')))
    root = page.js("pyagentFlame.locate('all')")
    page.click(root['x'] + 5, root['y'] + 5)
    c.check(page.js('location.hash') == '' and abs(page.js("pyagentFlame.locate('spin_hot (app.py:5)')")['w'] - before) < 1,
            'clicking the root zooms out')
    page.js("document.getElementById('view').click()")
    root = page.js("pyagentFlame.locate('all')")
    canvas_top = page.js("document.getElementById('canvas').getBoundingClientRect().top")
    c.check(abs(root['y'] - canvas_top) < 1 and 'view=icicle' in page.js('location.hash'), 'icicle view puts the root on top')
    c.no_errors('hover and zoom')

    # Degenerate inputs show a message, not an exception.
    for name, content in (('empty', b''), ('invalid', b'{"frames": [</script>')):
        path = os.path.join(tmp, name + '.json')
        with open(path, 'wb') as f:
            f.write(content)
        html = os.path.join(tmp, name + '.html')
        subprocess.run([tool, path, html], check=True)
        page.load('file://' + html)
        c.check('Cannot read the embedded profile data' in page.js('document.body.innerText'), '%s input shows a message' % name)
        c.no_errors(name + ' input')

    big = big_blob()
    secs = page.load(url_of(big, 'big'))
    c.no_errors('50k stacks')
    c.hottest_is(big, -1, 0, '50k stacks')
    ms = page.js("(() => { const t = performance.now(), e = document.getElementById('event');"
                 " e.value = '1'; e.dispatchEvent(new Event('change')); return performance.now() - t; })()")
    c.hottest_is(big, -1, 1, '50k stacks, page-faults')
    print('    50k stacks: loaded in %.2f s, event switch %.0f ms' % (secs, ms))
    c.check(secs < 20 and ms < 5000, '50k stacks render in reasonable time')
    return c.failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--tool', required=True, help='pa_flame_html_gen: JSON file -> HTML file')
    ap.add_argument('--allow-missing-browser', action='store_true', help='pass (with a notice) when Chromium is absent')
    ap.add_argument('--screenshot', help='also save a screenshot of a realistic profile there')
    ap.add_argument('--keep', action='store_true', help='keep the temporary directory')
    args = ap.parse_args()

    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        if args.allow_missing_browser:
            print('SKIPPED: no Chromium at %s (--allow-missing-browser)' % args.chromium)
            return 0
        print('FAIL: no Chromium at %s: install it (apt-get install chromium) or pass --chromium PATH'
              % args.chromium, file=sys.stderr)
        return 1
    if not os.access(args.tool, os.X_OK):
        print('FAIL: no generator tool at %s' % args.tool, file=sys.stderr)
        return 1

    tmp = tempfile.mkdtemp(prefix='pa-flame-')

    def url_of(blob, name):
        src, html = os.path.join(tmp, name + '.json'), os.path.join(tmp, name + '.html')
        with open(src, 'w', encoding='utf-8') as f:
            json.dump(blob, f, ensure_ascii=False)
        subprocess.run([args.tool, src, html], check=True)
        return 'file://' + html

    browser, failed = None, 1
    try:
        browser = Browser(args.chromium, tmp)
        failed = run_checks(Page(browser), args.tool, tmp, synthetic_blob(), url_of)
        if args.screenshot:
            shot = Page(browser, 1200, 760)
            shot.load(url_of(realistic_blob(), 'realistic') + '#search=render')
            r = shot.js("pyagentFlame.locate('do_GET (app.py:51)')")
            shot.mouse('mouseMoved', r['x'] + r['w'] * 0.3, r['y'] + 8)
            png = shot.cmd('Page.captureScreenshot', {'format': 'png'})['data']
            import base64
            with open(args.screenshot, 'wb') as f:
                f.write(base64.b64decode(png))
            print('screenshot: %s' % args.screenshot)
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
