"""Visible tests of tcp-state-machine: `prep test tcp-state-machine DIR` runs them on your tcp_state.py.

The hidden tests check much more: every transition from every state, the errors,
RST in SYN_RECEIVED, the TIME_WAIT timer, and two endpoints wired together.
"""

import pytest

from tcp_state import Connection, TCPError


def test_three_way_handshake():
    client, server = Connection(), Connection()
    assert tuple(server.listen()) == ("LISTEN", [])
    assert tuple(client.connect()) == ("SYN_SENT", ["SYN"])
    assert tuple(server.receive("SYN")) == ("SYN_RECEIVED", ["SYN+ACK"])
    assert tuple(client.receive("SYN+ACK")) == ("ESTABLISHED", ["ACK"])
    assert tuple(server.receive("ACK")) == ("ESTABLISHED", [])


def test_passive_closer_waits_in_close_wait():
    conn = Connection()
    conn.connect()
    conn.receive("SYN+ACK")
    assert tuple(conn.receive("FIN")) == ("CLOSE_WAIT", ["ACK"])
    assert tuple(conn.close()) == ("LAST_ACK", ["FIN"])
    assert tuple(conn.receive("ACK")) == ("CLOSED", [])


def test_send_on_a_closed_connection_raises():
    conn = Connection()
    with pytest.raises(TCPError, match="connection does not exist"):
        conn.send()
    assert conn.state == "CLOSED"
