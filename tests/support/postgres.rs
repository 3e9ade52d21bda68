//! A real PostgreSQL for tests: an unprivileged cluster in a temp dir on a
//! free port (`initdb` + `pg_ctl`), its superuser `admin` (password `adminpw`).
//! As root, the server runs as the `postgres` user (initdb refuses root).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Pg {
    pub dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
    as_user: Option<String>,
}

fn bin_dir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

impl Pg {
    /// `None` (with the reason printed) when PostgreSQL is not installed;
    /// `.ci/run` installs it, so CI never skips.
    pub fn start() -> Option<Self> {
        let Some(bin) = bin_dir() else {
            super::skip("PostgreSQL (initdb, pg_ctl) is not installed; .ci/run installs it");
            return None;
        };
        let root = unsafe { libc::geteuid() } == 0;
        let as_user = root.then(|| "postgres".to_string());
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(dir.path().join("pw"), "adminpw\n").unwrap();
        if let Some(u) = &as_user {
            assert!(
                Command::new("chown")
                    .args(["-R", u])
                    .arg(dir.path())
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let pg = Self {
            dir,
            port,
            bin,
            as_user,
        };
        let data = pg.dir.path().join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "admin",
                "--pwfile",
                pg.dir.path().join("pw").to_str().unwrap(),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.start_server();
        Some(pg)
    }

    fn run(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let exe = self.bin.join(tool);
        let mut cmd = match &self.as_user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success() || tool == "pg_ctl",
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts (or restarts) the server; waits until it accepts connections.
    pub fn start_server(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c log_connections=on {}",
            self.port,
            self.dir.path().display(),
            self.ssl_opts()
        );
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                self.dir.path().join("log").to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    pub fn stop_server(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    fn ssl_opts(&self) -> String {
        let cert = self.dir.path().join("server.crt");
        if cert.exists() {
            format!(
                "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert.display(),
                self.dir.path().join("server.key").display()
            )
        } else {
            String::new()
        }
    }

    /// Turns TLS on with a self-signed certificate (restarts the server); false without openssl.
    pub fn enable_tls(&self) -> bool {
        let (crt, key) = (
            self.dir.path().join("server.crt"),
            self.dir.path().join("server.key"),
        );
        let ok = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return false;
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        if let Some(u) = &self.as_user {
            Command::new("chown")
                .arg(u)
                .arg(&key)
                .arg(&crt)
                .status()
                .unwrap();
        }
        self.stop_server();
        self.start_server();
        true
    }

    pub fn url(&self, user: &str, password: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Runs SQL as the superuser; returns the rows' first column as text.
    pub fn sql(&self, sql: &str) -> Vec<String> {
        self.sql_as("admin", "adminpw", sql).unwrap()
    }

    /// Runs SQL as `user`; the server's message when it refuses.
    pub fn sql_as(&self, user: &str, password: &str, sql: &str) -> Result<Vec<String>, String> {
        let url = self.url(user, password);
        let sql = sql.to_string();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(conn);
                let mut out = Vec::new();
                let messages = client.simple_query(&sql).await.map_err(|e| {
                    e.as_db_error()
                        .map(|d| d.message().to_string())
                        .unwrap_or(e.to_string())
                })?;
                for msg in messages {
                    if let tokio_postgres::SimpleQueryMessage::Row(r) = msg {
                        out.push(r.get(0).unwrap_or("").to_string());
                    }
                }
                Ok(out)
            })
        })
        .join()
        .unwrap()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}
