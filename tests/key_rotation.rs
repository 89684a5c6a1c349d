//! `itinera keys rotate` over the real binary: every sealed record (plans' travellers, platform
//! tokens) re-encrypted under a new master key, readable by a server started with it, and by
//! no server holding only the old one.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::oauth_server::FakeAuthServer;
use common::{Harness, Options};
use serde_json::json;

fn itinera(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_itinera"));
    command
        .args(args)
        .env("ITINERA_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .env_remove("ITINERA_MASTER_KEY")
        .env_remove("ITINERA_NEW_MASTER_KEY");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The key ids named by the envelopes in the store's files (`v1:<id>:…`).
fn sealing_keys(dir: &Path) -> BTreeSet<String> {
    let mut bytes = Vec::new();
    for name in ["itinera.db", "itinera.db-wal"] {
        bytes.extend(std::fs::read(dir.join(name)).unwrap_or_default());
    }
    let text = String::from_utf8_lossy(&bytes);
    text.match_indices("v1:")
        .filter_map(|(at, _)| text.get(at + 3..at + 12))
        .filter(|id| id.ends_with(':') && id[..8].bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|id| id[..8].to_string())
        .collect()
}

fn key_file(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("master.key"))
        .unwrap()
        .trim()
        .to_string()
}

/// A plan with a traveller and a Booking.com sign-in, sealed under the first key.
async fn sealed_records(h: &Harness, server: &FakeAuthServer) -> String {
    let offers = h.paris_offers().await;
    let plan = h
        .plan_of(&[(offers[0].clone(), "must_have")], "pm_sandbox_visa")
        .await;
    let login = h
        .ok("login_to_platform", json!({"platform": "booking_com"}))
        .await;
    let (status, _) = server
        .sign_in(login["authorization_url"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    plan["plan_id"].as_str().unwrap().to_string()
}

/// What a server on the same files shows of the plan's traveller and of the sign-in.
async fn readable(h: &Harness, plan_id: &str) {
    let plan = h.ok("get_travel_plan", json!({"plan_id": plan_id})).await;
    assert_eq!(plan["travellers"][0]["family_name"], "Lovelace", "{plan}");
    let status = h
        .ok("check_auth_status", json!({"platform": "booking_com"}))
        .await;
    assert_eq!(status["status"], "authenticated", "{status}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// What a server left behind once stopped.
struct Stopped {
    dir: tempfile::TempDir,
    plan_id: String,
    settings: itinera::platforms::OAuthSettings,
}

/// A server on its own runtime writes a plan and a sign-in under the first key; a rotation
/// tried while it serves (to `new_key` given in the environment, or the key file's own) is
/// refused; then the server stops (the runtime and every task holding the store go).
fn records_then_stop(new_key: Option<&str>) -> Stopped {
    let rt = runtime();
    let stopped = rt.block_on(async {
        let server = FakeAuthServer::start().await;
        let h = Harness::with(Options {
            platform_logins: vec![server.settings()],
            ..Options::default()
        })
        .await;
        let plan_id = sealed_records(&h, &server).await;
        let before = sealing_keys(h.dir.path());
        let old_key = key_file(h.dir.path());
        let env = match new_key {
            Some(new_key) => vec![
                ("ITINERA_MASTER_KEY", old_key.as_str()),
                ("ITINERA_NEW_MASTER_KEY", new_key),
            ],
            None => Vec::new(),
        };
        let (code, _, err) = itinera(h.dir.path(), &["keys", "rotate"], &env);
        assert_eq!(code, Some(1));
        assert!(err.contains("in use by a running Itinera"), "{err}");
        assert_eq!(sealing_keys(h.dir.path()), before, "nothing re-sealed");
        let settings = server.settings();
        let Harness { dir, .. } = h;
        Stopped {
            dir,
            plan_id,
            settings,
        }
    });
    drop(rt);
    stopped
}

/// A server started on the rotated files: the traveller and the sign-in read back.
fn readable_after(stopped: Stopped) {
    runtime().block_on(async {
        let h = Harness::start_in(
            stopped.dir,
            Options {
                platform_logins: vec![stopped.settings],
                ..Options::default()
            },
        )
        .await;
        readable(&h, &stopped.plan_id).await;
    });
}

#[test]
fn rotating_the_key_file_reseals_everything_and_retires_the_old_key() {
    let stopped = records_then_stop(None);
    let dir = stopped.dir.path().to_path_buf();
    let old_key = key_file(&dir);
    let old_ids = sealing_keys(&dir);
    assert_eq!(old_ids.len(), 1, "{old_ids:?}");
    // The refused attempt left its new key staged: the next run uses that one.
    let staged = std::fs::read_to_string(dir.join("master.key.next")).unwrap();

    let (code, out, err) = itinera(&dir, &["keys", "rotate"], &[]);

    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("Re-encrypted 1 plans' travellers and 1 platform accounts' tokens"),
        "{out}"
    );
    let new_key = key_file(&dir);
    assert_eq!(new_key, staged.trim());
    assert_ne!(new_key, old_key);
    let old_id = old_ids.first().unwrap();
    let retired = dir.join(format!("master.key.{old_id}.retired"));
    assert_eq!(
        std::fs::read_to_string(&retired).unwrap().trim(),
        old_key,
        "the old key kept for backups: {out}"
    );
    assert!(out.contains(&retired.display().to_string()), "{out}");
    let new_ids = sealing_keys(&dir);
    assert_eq!(new_ids.len(), 1, "{new_ids:?}");
    assert_ne!(new_ids, old_ids, "nothing left under the old key");
    assert!(!dir.join("master.key.next").exists());

    let (code, _, err) = itinera(&dir, &["doctor"], &[("ITINERA_MASTER_KEY", &old_key)]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!("sealed with key {}", new_ids.first().unwrap())),
        "the old key alone opens nothing: {err}"
    );
    readable_after(stopped);
}

#[test]
fn a_key_given_in_the_environment_rotates_to_the_one_given_for_it() {
    let new_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let stopped = records_then_stop(Some(new_key));
    let dir = stopped.dir.path().to_path_buf();
    let old_key = key_file(&dir);
    let given_old = [("ITINERA_MASTER_KEY", old_key.as_str())];

    let (code, _, err) = itinera(&dir, &["keys", "rotate"], &given_old);
    assert_eq!(code, Some(1));
    assert!(err.contains("ITINERA_NEW_MASTER_KEY"), "{err}");
    let (code, _, err) = itinera(
        &dir,
        &["keys", "rotate"],
        &[
            ("ITINERA_MASTER_KEY", &old_key),
            ("ITINERA_NEW_MASTER_KEY", &old_key),
        ],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("the key in use"), "{err}");
    let (code, _, err) = itinera(
        &dir,
        &["keys", "rotate"],
        &[("ITINERA_NEW_MASTER_KEY", new_key)],
    );
    assert_eq!(code, Some(1), "a key file makes its own new key");
    assert!(err.contains("unset it"), "{err}");
    assert_eq!(sealing_keys(&dir).len(), 1, "nothing changed");
    assert!(!dir.join("master.key.next").exists());

    let (code, out, err) = itinera(
        &dir,
        &["keys", "rotate"],
        &[
            ("ITINERA_MASTER_KEY", &old_key),
            ("ITINERA_NEW_MASTER_KEY", new_key),
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("Now set ITINERA_MASTER_KEY to the new key"),
        "{out}"
    );
    assert_eq!(
        key_file(&dir),
        old_key,
        "the key file is not the key in use"
    );
    let (code, out, err) = itinera(&dir, &["doctor"], &[("ITINERA_MASTER_KEY", new_key)]);
    assert_eq!(code, Some(0), "the new key opens the store: {out}{err}");
    let (code, _, err) = itinera(&dir, &["doctor"], &given_old);
    assert_eq!(code, Some(1));
    assert!(err.contains("sealed with key"), "{err}");
}
