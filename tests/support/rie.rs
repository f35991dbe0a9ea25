//! Where the Lambda Runtime Interface Emulator is, and a free loopback port for it: shared
//! by the end-to-end tests of the crate (`tests/e2e`) and of the sample API
//! (`sample-api/tests`), included by path.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The emulator binary: `TV_RIE`, or the one inside the pinned aws-sam-cli, which
/// `scripts/rie-path` (under `root`, the repository) installs into `.tools/` when missing.
pub(crate) fn emulator_path(root: &Path) -> PathBuf {
    if let Ok(path) = std::env::var("TV_RIE") {
        return PathBuf::from(path);
    }
    let output = Command::new(root.join("scripts/rie-path"))
        .current_dir(root)
        .output()
        .expect("scripts/rie-path runs");
    assert!(
        output.status.success(),
        "scripts/rie-path failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// A loopback port free now (another process may take it before it is bound).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
