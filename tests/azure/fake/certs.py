"""The fake's TLS material: a test certificate authority and a server certificate it signs.

The fake serves HTTPS only, because that is what ARM clients insist on: azure_core (Rust and
Python alike) refuses to send a bearer token over plain http. A test trusts the fake through
`ca.pem` alone (Rust: SSL_CERT_FILE; Python: `connection_verify`), exactly as it would a
private cloud's CA, so no client needs its certificate checks turned off.

`ensure(cert_dir)` writes, unless already there: `ca.pem` (the CA certificate; what clients
trust), `ca-key.pem`, `server.pem` (the server certificate for 127.0.0.1 and localhost, SAN
IP + DNS, then the CA certificate: a full chain) and `server-key.pem`.
"""

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key():
    # P-256: accepted by rustls, native-tls and OpenSSL alike, and made in microseconds.
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure(cert_dir):
    """Returns (ca.pem, server.pem, server-key.pem) in `cert_dir`, made if missing."""
    d = Path(cert_dir)
    d.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = d / "ca.pem", d / "server.pem", d / "server-key.pem"
    if ca_path.exists() and cert_path.exists() and key_path.exists():
        return str(ca_path), str(cert_path), str(key_path)

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=825)

    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gantry Azure fake test CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gantry tests")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))

    key = _key()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                x509.DNSName("localhost"),
            ]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))

    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    (d / "ca-key.pem").write_bytes(_pem_key(ca_key))
    key_path.write_bytes(_pem_key(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    # ca.pem last: its presence tells a concurrent reader the set is complete.
    ca_path.write_bytes(ca_pem)
    return str(ca_path), str(cert_path), str(key_path)
