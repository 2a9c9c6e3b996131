"""Certificates made at test time (trustme): a test CA, a server certificate it signs for
`localhost`, and a second CA that signed nothing here (the wrong CA)."""
import pathlib
import ssl

import trustme

HOSTNAME = "localhost"


def make(folder):
    """Write ca.pem, ca.der, wrong_ca.pem and server.pem (key and chain) into folder; return
    (paths by name, an ssl.SSLContext that serves the server certificate)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca, wrong = trustme.CA(), trustme.CA()
    cert = ca.issue_cert(HOSTNAME)
    paths = {name: folder / name for name in ("ca.pem", "ca.der", "wrong_ca.pem", "server.pem")}
    pem = ca.cert_pem.bytes()
    paths["ca.pem"].write_bytes(pem)
    paths["ca.der"].write_bytes(ssl.PEM_cert_to_DER_cert(pem.decode()))
    paths["wrong_ca.pem"].write_bytes(wrong.cert_pem.bytes())
    cert.private_key_and_cert_chain_pem.write_to_path(str(paths["server.pem"]))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(paths["server.pem"]))
    return {k: str(v) for k, v in paths.items()}, ctx
