//! The team database's password never leaves over a connection llmdeck could
//! not verify: a fake PostgreSQL on 127.0.0.1 (a man in the middle) with a
//! certificate for another name, or declining TLS, gets no password in the
//! default mode; a team's own CA (`sslrootcert`) works against a real server;
//! `sslmode=require` / `disable` are explicit and shown as unverified.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use support::postgres::{Pg, issue, private_ca};
use support::team::{home, run, text};

const PASSWORD: &str = "s3cret-of-ada";

/// What the fake server got: the password message's body, if one came.
type Got = mpsc::Receiver<Option<String>>;

/// A fake PostgreSQL for one connection: answers the SSLRequest with `S` and
/// a TLS handshake with `cert` (or with `N` and plaintext, without one), then
/// asks for the password in clear, as a man in the middle would.
fn fake_server(cert: Option<(&Path, &Path)>) -> (u16, Got) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = cert.map(|(crt, key)| {
        let certs = CertificateDer::pem_file_iter(crt)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        )
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut tcp, _)) = listener.accept() else {
            return;
        };
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut ssl_request = [0u8; 8];
        let got = tcp
            .read_exact(&mut ssl_request)
            .ok()
            .and_then(|_| match tls {
                Some(config) => {
                    tcp.write_all(b"S").ok()?;
                    let conn = rustls::ServerConnection::new(config).ok()?;
                    password(&mut rustls::StreamOwned::new(conn, tcp))
                }
                None => {
                    tcp.write_all(b"N").ok()?;
                    password(&mut tcp)
                }
            });
        let _ = tx.send(got);
    });
    (port, rx)
}

/// Reads the startup message, asks for a cleartext password, returns it.
fn password(s: &mut (impl Read + Write)) -> Option<String> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).ok()?;
    let mut startup = vec![0u8; (u32::from_be_bytes(len) as usize).checked_sub(4)?];
    s.read_exact(&mut startup).ok()?;
    s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).ok()?;
    s.flush().ok()?;
    let mut head = [0u8; 5];
    s.read_exact(&mut head).ok()?;
    let mut body =
        vec![0u8; (u32::from_be_bytes(head[1..].try_into().ok()?) as usize).checked_sub(4)?];
    s.read_exact(&mut body).ok()?;
    (head[0] == b'p').then(|| {
        String::from_utf8_lossy(&body)
            .trim_end_matches('\0')
            .to_string()
    })
}

/// Runs `llmdeck team push` against the fake server; its output and what the server got.
fn push_to(port: u16, got: &Got, query: &str) -> (String, Option<String>) {
    let ada = home("ada");
    let url = format!("postgres://ada:{PASSWORD}@127.0.0.1:{port}/team{query}");
    let out = run(ada.path(), &url, &["team", "push"]);
    let got = got.recv_timeout(Duration::from_secs(10)).ok().flatten();
    (text(&out), got)
}

#[test]
fn the_default_mode_sends_no_password_to_a_server_it_cannot_verify() {
    let dir = tempfile::tempdir().unwrap();
    let Some(ca) = private_ca(dir.path()) else {
        support::skip("openssl is not installed (.ci/run installs it)");
        return;
    };
    assert!(issue(dir.path(), "evil", "DNS:evil.example"));
    let evil = (dir.path().join("evil.crt"), dir.path().join("evil.key"));
    let evil = Some((evil.0.as_path(), evil.1.as_path()));

    // No sslmode: a certificate no root vouches for.
    let (port, got) = fake_server(evil);
    let (out, password) = push_to(port, &got, "");
    assert_eq!(password, None, "the password reached the server: {out}");
    assert!(out.contains("certificate could not be verified"), "{out}");
    assert!(out.contains("sslrootcert=PATH"), "{out}");
    // The team's CA vouches for it, but for another name.
    let (port, got) = fake_server(evil);
    let (out, password) = push_to(port, &got, &format!("?sslrootcert={}", ca.display()));
    assert_eq!(password, None, "the password reached the server: {out}");
    assert!(
        out.contains("certificate could not be verified") && out.contains("evil.example"),
        "{out}"
    );
    // A server (or a man in the middle) that declines TLS gets no plaintext fallback.
    let (port, got) = fake_server(None);
    let (out, password) = push_to(port, &got, "");
    assert_eq!(password, None, "the password went in clear: {out}");
    assert!(out.contains("does not support TLS"), "{out}");
    // `prefer` would fall back to plaintext: refused, with what to write instead.
    let url = "postgres://ada:pw@127.0.0.1/team?sslmode=prefer";
    let out = text(&run(home("ada").path(), url, &["team", "status"]));
    assert!(
        out.contains("sslmode=prefer sends the password in clear"),
        "{out}"
    );

    // sslmode=require is a choice to skip the check: the server gets the password
    // (which shows the fake server would have caught one), and status says so.
    let (port, got) = fake_server(evil);
    let (out, password) = push_to(port, &got, "?sslmode=require");
    assert_eq!(password.as_deref(), Some(PASSWORD), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");
    for (mode, says) in [
        ("require", "connection: unverified TLS (sslmode=require"),
        ("disable", "connection: unverified: no TLS (sslmode=disable"),
        ("verify-full", "connection: verified TLS"),
    ] {
        let url = format!("postgres://ada:{PASSWORD}@127.0.0.1:{port}/team?sslmode={mode}");
        let out = text(&run(home("ada").path(), &url, &["team", "status"]));
        assert!(out.contains(says), "{mode}: {out}");
    }
}

#[test]
fn a_private_ca_given_by_sslrootcert_and_verify_full_work() {
    let Some(pg) = Pg::start() else { return };
    let Some(ca) = pg.enable_tls() else {
        support::skip("openssl is not installed (.ci/run installs it)");
        return;
    };
    let admin = home("admin");
    let base = format!("postgres://admin:adminpw@127.0.0.1:{}/postgres", pg.port);
    // Not signed by a root the system knows: refused, the row stays queued.
    let out = run(admin.path(), &base, &["--demo", "chat", "hello"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("certificate could not be verified")
            && text(&out).contains("team: offline, 1 queued"),
        "{}",
        text(&out)
    );
    // The team's CA, with no sslmode, with verify-full, and in key=value form.
    let key_value = format!(
        "host=127.0.0.1 port={} user=admin password=adminpw dbname=postgres sslmode=verify-full sslrootcert='{}'",
        pg.port,
        ca.display()
    );
    for url in [
        format!("{base}?sslrootcert={}", ca.display()),
        format!("{base}?sslmode=verify-full&sslrootcert={}", ca.display()),
        key_value,
    ] {
        let out = run(admin.path(), &url, &["--demo", "chat", "hello"]);
        assert!(
            out.status.success() && !text(&out).contains("team: offline"),
            "{url}: {}",
            text(&out)
        );
        let out = run(admin.path(), &url, &["team", "status"]);
        assert!(
            text(&out).contains("connection: verified TLS"),
            "{}",
            text(&out)
        );
    }
    assert_eq!(pg.sql("SELECT COUNT(*) FROM llmdeck_requests"), ["4"]);
    let log = std::fs::read_to_string(pg.path().join("log")).unwrap_or_default();
    assert!(
        log.lines()
            .any(|l| l.contains("user=admin") && l.contains("SSL enabled")),
        "{log}"
    );
}

#[test]
fn a_server_that_accepts_and_never_answers_holds_a_push_a_few_seconds_at_most() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        // Keeps every connection open, answering nothing.
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let ada = home("ada");
    let start = Instant::now();
    let out = run(
        ada.path(),
        &format!("postgres://ada:{PASSWORD}@127.0.0.1:{port}/team"),
        &["team", "push"],
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("127.0.0.1:{port}/team: no answer within 5 s")),
        "{}",
        text(&out)
    );
}
