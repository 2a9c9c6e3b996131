"""A loopback TCP server that answers every HTTP request with the hex of the bytes it received.

It is how tests see the exact bytes a client put on the wire, from either runtime: the
request's bytes come back as the 200 body (text/plain), which `Client.upload` returns as
the "stored file name". It reads the head up to the blank line and then Content-Length
bytes of body, so it records a request without interpreting it. A request whose
X-File-Name is `reads` is answered instead with the number of reads (recv calls) its body
took: how many pieces the client's body reached the server in.
"""
import binascii

from loopback import Served


class EchoServer(Served):
    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.requests = []

    def _handle(self, conn):
        conn.settimeout(10)
        with conn:
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                reads = 0
                while len(body) < length:
                    chunk = conn.recv(1 << 20)
                    if not chunk:
                        return
                    reads += 1
                    body += chunk
            except OSError:
                return
            request = head + b"\r\n\r\n" + body
            self.requests.append(request)
            text = binascii.hexlify(request)
            if b"\r\nx-file-name: reads\r\n" in head.lower() + b"\r\n":
                text = b"%d" % reads
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (len(text), text))
