"""Headless Chromium driven over the DevTools protocol (--remote-debugging-pipe), for the
browser tests. Python 3 stdlib only. Browser starts Chromium and records console errors,
exceptions and network requests from every page; Page opens a tab, loads URLs and
evaluates JS."""
import fcntl
import json
import os
import select
import subprocess
import time


class Failure(Exception):
    pass


class Browser:
    """Chromium with --remote-debugging-pipe: commands on its fd 3, replies on its fd 4,
    each a JSON message ended by a NUL byte."""

    def __init__(self, chromium, tmp):
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        # Park the child's ends above fd 10 so dup2 onto 3 and 4 cannot clobber them.
        a = fcntl.fcntl(cmd_r, fcntl.F_DUPFD_CLOEXEC, 10)
        b = fcntl.fcntl(res_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(cmd_r)
        os.close(res_w)

        def child():
            os.dup2(a, 3)  # dup2 clears close-on-exec: these two survive exec
            os.dup2(b, 4)

        self.log_path = os.path.join(tmp, 'chromium.log')
        self.log = open(self.log_path, 'wb')
        args = [chromium, '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                '--remote-debugging-pipe', '--user-data-dir=' + os.path.join(tmp, 'profile'),
                '--no-first-run', '--no-default-browser-check', '--disable-extensions',
                '--disable-background-networking', '--disable-sync', '--disable-component-update',
                '--hide-scrollbars', '--mute-audio', 'about:blank']
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     close_fds=False, preexec_fn=child)
        os.close(a)
        os.close(b)
        self.buf, self.next_id, self.queue = b'', 0, []
        self.errors, self.requests = [], []

    def close(self):
        try:
            self.send('Browser.close', timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.cmd_w, self.res_r):
            os.close(fd)
        self.log.close()

    def _read(self, deadline):
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure('timed out waiting for Chromium')
            ready, _, _ = select.select([self.res_r], [], [], left)
            if ready:
                chunk = os.read(self.res_r, 1 << 20)
                if not chunk:
                    raise Failure('Chromium closed the DevTools pipe (see %s)' % self.log_path)
                self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        msg = json.loads(msg)
        if 'method' in msg:
            self._observe(msg)
        return msg

    def _observe(self, ev):
        """Records what the checks care about from every event, whatever is waiting."""
        m, p = ev['method'], ev.get('params', {})
        if m == 'Runtime.exceptionThrown':
            d = p['exceptionDetails']
            self.errors.append('exception: %s %s' % (d.get('text'), d.get('exception', {}).get('description', '')))
        elif m == 'Runtime.consoleAPICalled' and p['type'] in ('error', 'assert', 'warning'):
            self.errors.append('console.%s: %s' % (p['type'], ' '.join(str(a.get('value', a.get('description')))
                                                                   for a in p.get('args', []))))
        elif m == 'Log.entryAdded' and p['entry']['level'] == 'error':
            self.errors.append('log: %s %s' % (p['entry'].get('text'), p['entry'].get('url', '')))
        elif m == 'Network.requestWillBeSent':
            self.requests.append(p['request']['url'])
        self.queue.append(ev)

    def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        data = json.dumps(msg).encode() + b'\0'
        while data:
            data = data[os.write(self.cmd_w, data):]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get('id') == self.next_id:
                if 'error' in reply:
                    raise Failure('%s: %s' % (method, reply['error']))
                return reply.get('result', {})

    def wait_event(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.queue):
                if ev['method'] == method:
                    del self.queue[:i + 1]
                    return ev
            self.queue.clear()
            self._read(deadline)


class Page:
    def __init__(self, browser, width=1280, height=900):
        self.b = browser
        target = browser.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        self.s = browser.send('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page', 'Runtime', 'Log', 'Network'):
            self.cmd(domain + '.enable')
        self.cmd('Emulation.setDeviceMetricsOverride',
                 {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': False})

    def cmd(self, method, params=None, timeout=30):
        return self.b.send(method, params, self.s, timeout)

    def load(self, url, timeout=60):
        """A full load (not a same-document hash change): through about:blank first."""
        self.cmd('Page.navigate', {'url': 'about:blank'})
        self.b.wait_event('Page.loadEventFired', timeout)
        start = time.monotonic()
        self.cmd('Page.navigate', {'url': url})
        self.b.wait_event('Page.loadEventFired', timeout)
        return time.monotonic() - start

    def js(self, expr):
        r = self.cmd('Runtime.evaluate', {'expression': expr, 'returnByValue': True, 'awaitPromise': True})
        if 'exceptionDetails' in r:
            raise Failure('evaluating %r: %s' % (expr[:80], r['exceptionDetails']))
        return r['result'].get('value')

    def wait_js(self, expr, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            v = self.js(expr)
            if v or time.monotonic() > deadline:
                return v
            time.sleep(0.05)

    def mouse(self, kind, x, y):
        p = {'type': kind, 'x': x, 'y': y}
        if kind != 'mouseMoved':
            p.update(button='left', clickCount=1)
        self.cmd('Input.dispatchMouseEvent', p)

    def click(self, x, y):
        self.mouse('mouseMoved', x, y)
        self.mouse('mousePressed', x, y)
        self.mouse('mouseReleased', x, y)
