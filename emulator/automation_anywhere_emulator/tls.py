"""HTTPS for the emulator: a self-signed certificate made at start, and the server's TLS context."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

#: How long a generated certificate is valid, from one day before it is made.
VALIDITY = datetime.timedelta(days=30)
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """
    Write ``cert.pem`` (also usable as a CA bundle) and ``key.pem`` (unencrypted: give a
    private directory) into ``directory``: EC P-256, ``CN=localhost``, SAN ``DNS:localhost``
    and ``IP:127.0.0.1``, valid from one day ago for :data:`VALIDITY`. Returns ``(cert, key)``.
    """
    # Imported here: ``cryptography`` comes with Airflow, and plain-HTTP users need not load it.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    # Real time, not the emulated Control Room's clock: clients check validity against their own clock.
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        # Its own CA, with the extensions strict verification (Python 3.13+, urllib3 2) asks for.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / CERT_FILE, directory / KEY_FILE
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context
