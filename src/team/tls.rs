//! TLS for the team database. By default the server's certificate is checked
//! against the platform's roots, or the team's own CA (`sslrootcert`), and its
//! name; `sslmode=require` encrypts without checking it, as libpq does.

use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_postgres_rustls::MakeRustlsConnect;

fn builder() -> (
    Arc<rustls::crypto::CryptoProvider>,
    rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions");
    (provider, builder)
}

/// Checks the certificate and the host name: against `roots` when given (a
/// team's CA), else against the platform's.
pub fn verified(roots: Option<&[CertificateDer<'static>]>) -> Result<MakeRustlsConnect, String> {
    let (_, builder) = builder();
    let config = match roots {
        Some(roots) => {
            let mut store = rustls::RootCertStore::empty();
            for cert in roots {
                store
                    .add(cert.clone())
                    .map_err(|e| format!("sslrootcert: {e}"))?;
            }
            builder.with_root_certificates(store).with_no_client_auth()
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|e| format!("the system's CA certificates: {e}"))?
                .with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// `sslmode=require`: encrypted, any certificate accepted.
pub fn unverified() -> MakeRustlsConnect {
    let (provider, builder) = builder();
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
        .with_no_client_auth();
    MakeRustlsConnect::new(config)
}

/// The certificates of a PEM file (`sslrootcert`).
pub fn read_roots(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("team: sslrootcert {path}: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("team: sslrootcert {path}: not a PEM file ({e})"))?;
    if certs.is_empty() {
        return Err(format!("team: sslrootcert {path}: no certificate in it"));
    }
    Ok(certs)
}

/// The certificate problem behind a failed connection, if that is what it was.
pub fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(e);
    while let Some(e) = source {
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|i| i as &(dyn std::error::Error + 'static))
            .unwrap_or(e);
        if let Some(rustls::Error::InvalidCertificate(c)) = inner.downcast_ref::<rustls::Error>() {
            return Some(match c {
                rustls::CertificateError::UnknownIssuer => {
                    "UnknownIssuer: signed by no CA llmdeck trusts".into()
                }
                c => c.to_string(),
            });
        }
        source = e.source();
    }
    None
}

/// Accepts any certificate (but still checks the handshake's signatures).
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
