"""Hostile epoll-echo submission: the echo runs in a child process.

serve() forks; the child does the whole edge-triggered echo while the parent sits in
waitpid, using no CPU. A figure read from the parent's CPU time alone would be
enormous (echoes / ~0 s).
"""

import os
import select
import socket
import struct


def _echo(listener, connections):
    listener.setblocking(False)
    ep = select.epoll()
    ep.register(listener.fileno(), select.EPOLLIN | select.EPOLLET)
    conns, out, eof = {}, {}, set()
    accepted = echoed = 0
    while accepted < connections or conns:
        for fd, _ in ep.poll():
            if fd == listener.fileno():
                while accepted < connections:
                    try:
                        c, _ = listener.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    conns[c.fileno()], out[c.fileno()] = c, bytearray()
                    ep.register(c.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLET)
                    accepted += 1
                continue
            c = conns.get(fd)
            if c is None:
                continue
            alive = True
            try:
                while True:
                    while out[fd]:
                        try:
                            n = c.send(out[fd])
                        except BlockingIOError:
                            break
                        echoed += n
                        del out[fd][:n]
                    if fd in eof:
                        alive = bool(out[fd])
                        break
                    if len(out[fd]) >= 1 << 20:
                        break
                    try:
                        data = c.recv(65536)
                    except BlockingIOError:
                        break
                    if not data:
                        eof.add(fd)
                    out[fd] += data
            except OSError:
                alive = False
            if not alive:
                ep.unregister(fd)
                conns.pop(fd).close()
    return echoed


def serve(listener, connections):
    timeout = listener.gettimeout()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, struct.pack("!Q", _echo(listener, connections)))
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    echoed = struct.unpack("!Q", os.read(r, 8))[0]
    os.close(r)
    listener.settimeout(timeout)
    return echoed
