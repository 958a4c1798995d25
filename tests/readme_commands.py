#!/usr/bin/env python3
"""The shell blocks of the docs run as written (CTest `readme_commands`).

usage: readme_commands.py ROOT HUB_DIR WATCH_DIR

Every ```sh / ```bash / ```shell block of DOCUMENTS is taken from the Markdown itself, so a doc
edit is tested as written. A newcomer's view:

- Each document runs in a folder of its own that mirrors the repository (a symlink per top-level
  entry), so relative paths such as `README.md` or `web` resolve and the files a block writes
  (`data/`, keys, certificates) land in that folder. `build/native-release/native/server/progress-hub`
  and `build/native-release/native/cli/progress-watch` (what `bash toolchains/run.sh` builds) are
  links to the binaries under test, and HUB_DIR and WATCH_DIR are on PATH for the docs that name
  the installed commands. PROGRESS_* variables are cleared, as in a fresh shell.
- Each document runs in a network namespace of its own (`unshare --net`, loopback only), so the
  fixed ports the docs name (8000, 8001, 6379, ...) are free whatever else runs on the machine.
  Where unshare is not allowed the test says so and uses the machine's own loopback.
- A line that starts a server (see SERVERS) runs in the background, as in a terminal of its own;
  the test waits until its port accepts connections, then goes on. A server that exits before the
  document is done fails the test. Every other run of lines goes to `bash -eo pipefail` with a
  timeout; the blocks of one document run in order, against the servers started before them.
- `<!-- excerpt: why -->` on the line right before a fence marks a block that cannot run on one
  machine (an nginx config, a systemd install): it is skipped, and listed at the end.
- README.md's first two commands are exceptions. `bash toolchains/run.sh` builds the release
  server and the wasm module (too slow to repeat inside CI), so the test runs what run.sh runs
  after its builds (its lines after the last `cmake` or `bash toolchains/...` one: `mkdir -p
  data`, the `exec`ed server with the same flags). `bash toolchains/test.sh` is CI itself, which runs this test.
"""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCUMENTS = [
    'README.md',
    'docs/security.md',
    'docs/several-nodes.md',
    'docs/migrating-from-fastapi.md',
    'examples/fastapi-upload/README.md',
]
SHELL_LANGUAGES = {'sh', 'bash', 'shell'}
EXCERPT = re.compile(r'^\s*<!--\s*excerpt:\s*(.*?)\s*-->\s*$')
FENCE = re.compile(r'^ {0,3}```\s*([\w-]*)\s*$')
# Commands that run until stopped: (pattern on the line, port when the line names none).
SERVERS = [
    (re.compile(r'^(\S*/)?progress-hub(\s|$)'), 8000),
    (re.compile(r'^(\S*/)?redis-server(\s|$)'), 6379),
    (re.compile(r'^\S*python3\s+\S*app\.py(\s|$)'), 8000),
]
PORT_FLAG = re.compile(r'(?:--listen\s+\S*:|--port\s+)(\d+)')
BLOCK_TIMEOUT_S = 60   # hang guards, not speed goals
READY_TIMEOUT_S = 30
RUN_SH = 'bash toolchains/run.sh'
BUILD_STEP = re.compile(r'^(cmake\s|bash toolchains/)')
TEST_SH = 'bash toolchains/test.sh'


def blocks(path):
    """(first line number, language, text, excerpt reason or None) of every fenced block."""
    lines = path.read_text().splitlines()
    found, index = [], 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        start, language = index, match.group(1)
        excerpt = EXCERPT.match(lines[start - 1]) if start > 0 else None
        index += 1
        body = []
        while index < len(lines) and not FENCE.match(lines[index]):
            body.append(lines[index])
            index += 1
        index += 1
        found.append((start + 1, language, '\n'.join(body), excerpt.group(1) if excerpt else None))
    return found


def commands(text):
    """The block's lines with `\\` continuations joined."""
    joined, pending = [], ''
    for line in text.splitlines():
        if line.endswith('\\'):
            pending += line[:-1] + ' '
            continue
        joined.append(pending + line)
        pending = ''
    if pending:
        joined.append(pending)
    return joined


def server_port(command):
    """The port a server line listens on, or None when the line is not a server."""
    for pattern, default in SERVERS:
        if pattern.search(command.strip()):
            match = PORT_FLAG.search(command)
            return int(match.group(1)) if match else default
    return None


def run_sh_tail(root):
    """What toolchains/run.sh runs once its builds are done: its lines after the last build step
    (a `cmake ...` or `bash toolchains/...` line)."""
    lines = (root / 'toolchains' / 'run.sh').read_text().splitlines()
    last_build = max(i for i, line in enumerate(lines) if BUILD_STEP.match(line))
    tail = [line for line in lines[last_build + 1:] if line.strip()]
    return '\n'.join(line[len('exec '):] if line.startswith('exec ') else line for line in tail)


class Document:
    """One document's blocks in one folder, with the servers they start."""

    def __init__(self, root, name, folder, env):
        self.root, self.name, self.folder, self.env = root, name, folder, env
        self.servers = []  # (command, process, log path)

    def fail(self, what):
        for command, process, log in self.servers:
            print(f'--- {command}\n{Path(log).read_text()[-3000:]}', file=sys.stderr)
        raise SystemExit(f'FAILED {self.name}: {what}')

    def run_lines(self, where, lines):
        script = '\n'.join(lines)
        if not script.strip():
            return
        print(f'$ {script}', flush=True)
        try:
            done = subprocess.run(['bash', '-eo', 'pipefail', '-c', script], cwd=self.folder, env=self.env,
                                  timeout=BLOCK_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.fail(f'{where}: still running after {BLOCK_TIMEOUT_S} s:\n{script}')
        if done.returncode != 0:
            self.fail(f'{where}: exit code {done.returncode}:\n{script}')

    def start_server(self, where, command, port):
        print(f'$ {command}\n  (in the background; waiting for port {port})', flush=True)
        log = self.folder / f'.server-{len(self.servers)}.log'
        with open(log, 'w') as out:
            process = subprocess.Popen(['bash', '-c', 'exec ' + command], cwd=self.folder, env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.servers.append((command, process, log))
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.fail(f'{where}: exited with code {process.returncode} instead of serving:\n{command}')
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.fail(f'{where}: port {port} not open after {READY_TIMEOUT_S} s:\n{command}')

    def run_block(self, where, text):
        pending = []
        for command in commands(text):
            port = server_port(command)
            if port is None:
                pending.append(command)
                continue
            self.run_lines(where, pending)
            pending = []
            self.start_server(where, command, port)
        self.run_lines(where, pending)

    def stop(self):
        alive = [(c, p) for c, p, _ in self.servers if p.poll() is None]
        for command, process in alive:
            os.killpg(process.pid, signal.SIGTERM)
        for command, process in alive:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def run(self):
        excerpts = []
        try:
            for line, language, text, excerpt in blocks(self.root / self.name):
                if language not in SHELL_LANGUAGES:
                    continue
                where = f'{self.name}:{line}'
                if excerpt is not None:
                    excerpts.append(f'{where}: {excerpt}')
                    continue
                if self.name == 'README.md' and text.strip() == TEST_SH:
                    print(f'({where}: `{TEST_SH}` is CI itself, which runs this test)')
                    continue
                if self.name == 'README.md' and text.strip() == RUN_SH:
                    print(f'({where}: `{RUN_SH}` without its builds: the lines after them)')
                    text = run_sh_tail(self.root)
                self.run_block(where, text)
            for command, process, _ in self.servers:
                if process.poll() is not None:
                    self.fail(f'exited with code {process.returncode} before the last block:\n{command}')
        finally:
            self.stop()
        return excerpts


def mirror(root, folder, hub_dir, watch_dir):
    for entry in root.iterdir():
        if entry.name not in ('build', 'data', '.git'):
            (folder / entry.name).symlink_to(entry)
    release = folder / 'build' / 'native-release' / 'native'
    (release / 'server').mkdir(parents=True)
    (release / 'cli').mkdir()
    (release / 'server' / 'progress-hub').symlink_to(hub_dir / 'progress-hub')
    (release / 'cli' / 'progress-watch').symlink_to(watch_dir / 'progress-watch')


def run_document(root, name, hub_dir, watch_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith('PROGRESS_')}
    env['PATH'] = os.pathsep.join([str(hub_dir), str(watch_dir), env.get('PATH', '')])
    with tempfile.TemporaryDirectory(prefix='readme-commands-') as folder:
        mirror(root, Path(folder), hub_dir, watch_dir)
        return Document(root, name, Path(folder), env).run()


def isolated(argv):
    """argv run in a network namespace of its own with loopback up, or None where not allowed."""
    if not shutil.which('unshare'):
        return None
    prefix = ['unshare', '--net'] if os.geteuid() == 0 else ['unshare', '--user', '--map-root-user', '--net']
    probe = subprocess.run(prefix + ['true'], capture_output=True)
    if probe.returncode != 0:
        return None
    inner = 'ip link set lo up && exec ' + ' '.join(shlex.quote(a) for a in argv)
    return prefix + ['sh', '-c', inner]


def main():
    if len(sys.argv) == 6 and sys.argv[1] == '--one':
        root, hub_dir, watch_dir = (Path(a).resolve() for a in sys.argv[2:5])
        name = sys.argv[5]
        for excerpt in run_document(root, name, hub_dir, watch_dir):
            print(f'EXCERPT {excerpt}')
        return 0
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(sys.argv[1]).resolve()
    excerpts = []
    for name in DOCUMENTS:
        print(f'==== {name}', flush=True)
        argv = [sys.executable, __file__, '--one', *sys.argv[1:4], name]
        command = isolated(argv)
        if command is None:
            print('(unshare --net not allowed here: the machine\'s own loopback, its ports may be taken)')
            command = argv
        done = subprocess.run(command, capture_output=True, text=True)
        sys.stdout.write(''.join(l + '\n' for l in done.stdout.splitlines() if not l.startswith('EXCERPT ')))
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            print(f'FAILED: {name}', flush=True)
            return 1
        excerpts += [l[len('EXCERPT '):] for l in done.stdout.splitlines() if l.startswith('EXCERPT ')]
    print(f'\nall shell blocks of {", ".join(DOCUMENTS)} ran')
    print('excerpts skipped (marked <!-- excerpt: why -->):' if excerpts else 'no excerpts skipped')
    for excerpt in excerpts:
        print(f'  {excerpt}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
