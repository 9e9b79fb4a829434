"""A real, tiny authoritative DNS server for tests: UDP and TCP on 127.0.0.1, one port.

    from tests.support.dns_server import DnsServer

    with DnsServer() as dns:
        dns.zone("acme.example", '''
            @            TXT "v=spf1 ip4:127.0.0.1 -all"
            @            MX 10 mail
            mail         A 127.0.0.1
            _dmarc       TXT "v=DMARC1; p=quarantine"
        ''')
        settings = Settings(dns_nameservers=dns.nameserver)   # "127.0.0.1:PORT"

Zones are dnspython `dns.zone.Zone`s parsed from zone-file text, answers are
`dns.message` responses with the AA bit: NXDOMAIN for a name the zone lacks, NOERROR with an
empty answer for a name without that type, REFUSED outside every zone. A response too big
for UDP (a 2048-bit DKIM key fits; several may not) is sent truncated, and clients retry
over TCP, as with any real server. `zone()` may be called again to change what is served.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from types import TracebackType

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.zone

UDP_LIMIT = 512  # without EDNS (RFC 1035 4.2.1)


class DnsServer:
    def __init__(self) -> None:
        self._zones: dict[dns.name.Name, dns.zone.Zone] = {}
        self._lock = threading.Lock()
        self.queries: list[tuple[str, str]] = []  # (name, type) asked, in order
        self._udp: socketserver.UDPServer | None = None
        self._tcp: socketserver.TCPServer | None = None
        self._threads: list[threading.Thread] = []

    # --- content ---

    def zone(self, origin: str, text: str) -> None:
        """Serve `text` (zone-file lines, names relative to `origin`) as the zone `origin`."""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        body = "\n".join(["$TTL 300", "@ SOA ns1 hostmaster 1 3600 600 86400 300", *lines])
        parsed = dns.zone.from_text(body, origin=origin, relativize=False, check_origin=False)
        with self._lock:
            self._zones[parsed.origin] = parsed

    def answer(self, wire: bytes, limit: int | None) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name, rdtype = question.name, question.rdtype
        with self._lock:
            self.queries.append((name.to_text(omit_final_dot=True), dns.rdatatype.to_text(rdtype)))
            zone = self._zone_for(name)
            if zone is None:
                response.set_rcode(dns.rcode.REFUSED)
            elif zone.get_node(name) is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                found = zone.get_rrset(name, rdtype)
                if found is not None:
                    response.answer.append(found)
        if limit is not None and query.edns >= 0:
            limit = max(limit, query.payload)
        out = response.to_wire()
        if limit is not None and len(out) > limit:
            response.answer = []
            response.flags |= dns.flags.TC
            out = response.to_wire()
        return out

    def _zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        best = None
        for origin, zone in self._zones.items():
            if name.is_subdomain(origin) and (best is None or origin.is_subdomain(best.origin)):
                best = zone
        return best

    # --- sockets ---

    @property
    def port(self) -> int:
        assert self._udp is not None, "start the server first (use it as a context manager)"
        return int(self._udp.server_address[1])

    @property
    def nameserver(self) -> str:
        """For KADENZ_DNS_NAMESERVERS."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> DnsServer:
        server = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                sock.sendto(server.answer(data, UDP_LIMIT), self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                while True:
                    head = _read(conn, 2)
                    if head is None:
                        return
                    (length,) = struct.unpack("!H", head)
                    body = _read(conn, length)
                    if body is None:
                        return
                    out = server.answer(body, None)
                    conn.sendall(struct.pack("!H", len(out)) + out)

        # The TCP listener takes the UDP server's port: clients retry a truncated answer there.
        for _ in range(20):
            udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), Udp)
            tcp = socketserver.ThreadingTCPServer(
                ("127.0.0.1", udp.server_address[1]), Tcp, bind_and_activate=False
            )
            try:
                tcp.allow_reuse_address = True
                tcp.server_bind()
                tcp.server_activate()
            except OSError:  # the port is taken for TCP: try another pair
                udp.server_close()
                tcp.server_close()
                continue
            break
        else:
            raise RuntimeError("no free port for both UDP and TCP on 127.0.0.1")
        udp.daemon_threads = tcp.daemon_threads = True
        self._udp, self._tcp = udp, tcp
        for srv in (udp, tcp):
            thread = threading.Thread(target=srv.serve_forever, daemon=True, name="dns-server")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for srv in (self._udp, self._tcp):
            if srv is not None:
                srv.shutdown()
                srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _read(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
