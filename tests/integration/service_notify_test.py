#!/usr/bin/env python3
"""What systemd's Type=notify sees of the real progress-hub (CTest `service_notify`).

usage: service_notify_test.py PROGRESS_HUB

The hub is started with NOTIFY_SOCKET naming a datagram socket of the test, as systemd does: READY=1
must arrive only once the listener is bound (the `listening on` line is printed first), then
RELOADING=1 and READY=1 around SIGHUP, STOPPING=1 on SIGTERM. A hub built without libsystemd
says sd_notify=off in its start log: the test is skipped (exit 77).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile

GUARD_S = 15  # a hang guard, not a speed goal
SKIP = 77


def main():
    hub_binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'notify.sock')
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(path)
        notify.settimeout(GUARD_S)
        log_path = os.path.join(folder, 'hub.log')
        with open(log_path, 'w') as log:
            hub = subprocess.Popen([hub_binary, '--listen', '127.0.0.1:0', '--log-level', 'info'],
                                   env={'NOTIFY_SOCKET': path}, stdout=subprocess.PIPE, stderr=log)
        try:
            listening = hub.stdout.readline().decode()
            assert listening.startswith('listening on 127.0.0.1:'), listening
            with open(log_path) as log:
                if 'sd_notify=off' in log.read():
                    print('service_notify: progress-hub built without libsystemd, skipped')
                    return SKIP
            messages = []

            def expect(state):
                message = notify.recv(4096).decode()
                messages.append(message)
                assert message.split('\n')[0] == state, f'expected {state}, got {messages}'
                return message

            ready = expect('READY=1')
            assert 'STATUS=' + listening.strip() in ready, ready
            hub.send_signal(signal.SIGHUP)
            expect('RELOADING=1')
            expect('READY=1')
            hub.send_signal(signal.SIGTERM)
            expect('STOPPING=1')
            assert hub.wait(GUARD_S) == 0
        finally:
            if hub.poll() is None:
                hub.kill()
                hub.wait()
    print('service_notify: READY=1 after the listener was bound, RELOADING=1/READY=1, STOPPING=1')
    return 0


if __name__ == '__main__':
    sys.exit(main())
