//! `paperboy import` from the outside, on SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{stderr, stdout, summary, synthetic_records, write, Env};
use paperboy_testkit::seed_corpus_path;

async fn envs() -> Vec<Env> {
    let mut v = vec![Env::sqlite()];
    match Env::postgres().await {
        Some(pg) => v.push(pg),
        None => eprintln!("PAPERBOY_TEST_PG is not set: PostgreSQL run skipped"),
    }
    v
}

#[tokio::test]
async fn seed_corpus_imports_once_then_is_unchanged() {
    for env in envs().await {
        let seed = seed_corpus_path();
        let seed = seed.to_str().unwrap();
        let first = env.run(&["import", seed]);
        assert!(first.status.success(), "{}", stderr(&first));
        assert_eq!(summary(&first), (68, 0, 0, 0), "{}", env.database_url);
        let second = env.run(&["import", seed]);
        assert!(second.status.success());
        assert_eq!(summary(&second), (0, 0, 68, 0));
    }
}

#[tokio::test]
async fn malformed_lines_are_named_and_skipped() {
    for env in envs().await {
        let good = synthetic_records(4);
        let lines: Vec<&str> = good.lines().collect();
        let text = [
            lines[0],
            "{\"id\": \"2301.99999\", \"title\": ",
            lines[1],
            r#"{"id": "not-an-id", "title": "x"}"#,
            lines[2],
            r#"{"id": "2301.99998", "title": ""}"#,
            r#"{"id": "2301.99997", "title": "t", "versions": [{"version": "v1", "created": "Fri, 30 Feb 2024 00:00:00 GMT"}]}"#,
            lines[3],
        ]
        .join("\n");
        let file = env.path("mixed.jsonl");
        write(&file, &text);
        let out = env.run(&["import", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(summary(&out), (4, 0, 0, 4));
        let err = stderr(&out);
        let name = file.display().to_string();
        for (line, why) in [
            (2, "malformed JSON"),
            (4, "invalid id"),
            (6, "empty title"),
            (7, "impossible date"),
        ] {
            let expected = format!("{name}:{line}: {why}");
            assert!(err.contains(&expected), "stderr lacks {expected:?}:\n{err}");
        }
    }
}

#[tokio::test]
async fn gzip_and_stdin_are_read() {
    use std::io::Write;
    let env = Env::sqlite();
    let records = synthetic_records(30);
    let gz = env.path("part.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(records.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let out = env.run(&["import", gz.to_str().unwrap()]);
    assert_eq!(summary(&out), (30, 0, 0, 0), "{}", stderr(&out));

    let mut child = env
        .command()
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(records.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(summary(&out), (0, 0, 30, 0), "{}", stderr(&out));
}

#[tokio::test]
async fn a_missing_file_is_an_error_naming_it() {
    let env = Env::sqlite();
    let out = env.run(&["import", "no-such-file.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no-such-file.jsonl"),
        "{}",
        stderr(&out)
    );
    let usage = env.run(&["import"]);
    assert_eq!(usage.status.code(), Some(2), "missing FILE is bad usage");
}

/// `kill -9` in the middle leaves whole batches; running again completes.
#[tokio::test]
async fn killed_import_is_consistent_and_resumable() {
    let env = Env::sqlite();
    let n = 40_000;
    let file = env.path("big.jsonl");
    write(&file, &synthetic_records(n));
    let batch = 500;
    assert!(env.run(&["migrate"]).status.success());
    let mut child = env
        .command()
        .args([
            "import",
            "--batch-size",
            &batch.to_string(),
            file.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some batches are committed, then kill without warning.
    let url = env.database_url.clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    let store = loop {
        if let Ok(s) = paperboy_store_sqlite::open(&url).await {
            break s;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    use paperboy_store::{ChangeFeed, PaperStore};
    loop {
        let count = store.count_papers().await.unwrap_or(0);
        if count > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "import never committed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let landed = store.count_papers().await.unwrap();
    assert!(
        landed < n as u64,
        "the kill came too late to test anything ({landed} landed)"
    );
    assert_eq!(landed % batch, 0, "only whole batches land: {landed}");
    assert_eq!(store.change_seq().await.unwrap(), landed as i64);
    drop(store);

    let out = env.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (imported, updated, unchanged, rejected) = summary(&out);
    assert_eq!((imported + unchanged, updated, rejected), (n as u64, 0, 0));
    assert_eq!(unchanged, landed);
}

/// A bulk load drops the papers table's secondary indexes and builds them
/// at the end; killed in between, the indexes wait as definitions in the
/// store, and the next run builds them (and finishes the load).
#[tokio::test]
async fn a_killed_bulk_load_leaves_its_indexes_to_the_next_run() {
    let env = Env::sqlite();
    let n = 40_000;
    let file = env.path("big.jsonl");
    write(&file, &synthetic_records(n));
    assert!(env.run(&["migrate"]).status.success());
    let db = env.path("data/paperboy.db");
    // Read with Python's sqlite3: opening the store itself would build the
    // indexes again, which is what this test waits to see the rerun do.
    let ask = |sql: &str| -> String {
        let out = paperboy_testkit::python(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=30)\nprint(c.execute(sys.argv[2]).fetchall())",
            &[db.as_os_str(), std::ffi::OsStr::new(sql)],
            "python3 with sqlite3",
        );
        String::from_utf8_lossy(&out).trim().to_string()
    };
    let indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'papers' \
                   AND sql IS NOT NULL ORDER BY name";
    let all = "[('papers_claimed_github_repo_idx',), ('papers_deleted_idx',), \
               ('papers_github_repo_idx',), ('papers_published_at_idx',), \
               ('papers_trending_idx',)]";
    assert_eq!(ask(indexes), all);
    let mut child = env
        .command()
        .args(["import", "--defer-indexes", "always", "--batch-size", "500"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while ask("SELECT count(*) FROM papers") == "[(0,)]" {
        assert!(Instant::now() < deadline, "import never committed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let landed = ask("SELECT count(*) FROM papers");
    assert_ne!(landed, format!("[({n},)]"), "the kill came too late");
    assert_eq!(ask(indexes), "[]", "dropped for the load");
    assert_eq!(ask("SELECT count(*) FROM deferred_indexes"), "[(5,)]");

    let out = env.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (imported, updated, unchanged, rejected) = summary(&out);
    assert_eq!((imported + unchanged, updated, rejected), (n as u64, 0, 0));
    assert_eq!(ask(indexes), all, "built again");
    assert_eq!(ask("SELECT count(*) FROM deferred_indexes"), "[(0,)]");
}

/// `auto` defers for a large load into an empty PostgreSQL store and says
/// so in the summary; a small load keeps its indexes, and so does SQLite.
#[tokio::test]
async fn a_large_load_into_a_small_store_builds_its_indexes_once() {
    for env in envs().await {
        let postgres = env.database_url.starts_with("postgres");
        // Abstracts of a real paper's length (~1 KB a record).
        let long = "with a method. ".repeat(55);
        let big = env.path("big.jsonl");
        write(
            &big,
            &synthetic_records(25_000).replace("with a method. ", &long),
        );
        let out = env.run(&["import", big.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(summary(&out).0, 25_000);
        assert_eq!(
            stdout(&out).contains("5 indexes built after the load"),
            postgres,
            "{}",
            stdout(&out)
        );
        let small = env.path("small.jsonl");
        write(&small, &synthetic_records(10));
        let out = env.run(&["import", small.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!stdout(&out).contains("indexes"), "{}", stdout(&out));
    }
}

/// The disk fills while importing, played by a file-size limit on the
/// process (`ulimit -f`, with SIGXFSZ ignored so writes fail as on a full
/// disk): a clear error, an intact store, and a rerun that finishes.
#[tokio::test]
async fn a_full_disk_stops_the_import_cleanly_and_the_rerun_finishes() {
    let env = Env::sqlite();
    let seed = seed_corpus_path();
    assert!(env
        .run(&["import", seed.to_str().unwrap()])
        .status
        .success());
    let file = env.path("many.jsonl");
    write(&file, &synthetic_records(60_000));
    let limited = "trap '' XFSZ; ulimit -f 8192; exec \"$0\" import \"$1\"";
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", limited, common::bin(), file.to_str().unwrap()]);
    cmd.env_clear();
    let probe = env.command();
    for (k, v) in probe.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.current_dir(env.dir.path());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("paperboy.db"),
        "the error names the store: {err}"
    );
    assert!(
        err.contains("the disk is full or a file size limit was reached"),
        "{err}"
    );

    // The store is intact and holds whole batches only.
    let db = env.path("data/paperboy.db");
    let counts = paperboy_store_sqlite::backup::verify(&db).unwrap();
    assert!(
        counts.papers >= 68 && counts.papers < 68 + 60_000,
        "{counts:?}"
    );

    // With room again, the rerun finishes.
    let again = env.run(&["import", file.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    let counts = paperboy_store_sqlite::backup::verify(&db).unwrap();
    assert_eq!(counts.papers, 68 + 60_000);
}
