//! A load test of the built authorizer binary: this program plays the Lambda Runtime API
//! (the `/next` long poll, `/response`, `/error`) for it, as Lambda Managed Instances do,
//! with many invocations in flight, plus the issuer's JWKS endpoint; and measures.
//!
//! ```text
//! load_driver BINARY [SECONDS per level, default 3] [LEVELS, default 1,2,8,32]
//! ```
//! For each concurrency level it starts the binary (`AWS_LAMBDA_MAX_CONCURRENCY` = the
//! level; unset for 1, as on classic Lambda), keeps that many invocations outstanding
//! (closed loop) for the given time, and prints throughput, p50/p99 latency (handed to
//! `/next` → answer received), CPU time per invocation and peak RSS of the function
//! process (`/proc`), and how many times it fetched the JWKS. Halfway through each level
//! the issuer rotates its keys and every new invocation carries a token with the new
//! `kid`: the run fails unless every invocation is allowed and the key set was fetched
//! exactly twice (init, then one refetch however many requests met the new kid).
//! `scripts/load-test` builds and runs it; BENCHMARKS.md has results.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    clippy::pedantic
)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use token_verifier::Algorithm;
use token_verifier::tool::dev::workload::{self, AUDIENCE, ISSUER};
use token_verifier::tool::dev::{SigningKey, jwks};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The Runtime API's state: invocations waiting for a `/next`, and those handed out.
#[derive(Default)]
struct Api {
    queue: Mutex<VecDeque<(u64, Arc<Vec<u8>>)>>,
    ready: Notify,
    handed: Mutex<HashMap<u64, Instant>>,
    done: Mutex<Vec<(Duration, bool)>>,
    finished: Notify,
    polls: AtomicUsize,
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request (Content-Length or chunked body); `None` at end of stream.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    buffer.drain(..head_end);
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let mut length = 0usize;
    let mut chunked = false;
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(at) = buffer.windows(2).position(|w| w == b"\r\n") {
                    break at;
                }
                let have = buffer.len();
                fill(stream, buffer, have + 1).await?;
            };
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&buffer[..line_end]).trim(), 16)
                    .ok()?;
            buffer.drain(..line_end + 2);
            fill(stream, buffer, size + 2).await?;
            body.extend_from_slice(&buffer[..size]);
            buffer.drain(..size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        fill(stream, buffer, length).await?;
        buffer.drain(..length).collect()
    };
    Some(Request { method, path, body })
}

/// Reads until `buffer` holds at least `needed` bytes.
async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>, needed: usize) -> Option<()> {
    while buffer.len() < needed {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Some(())
}

async fn serve_runtime_api(api: Arc<Api>, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buffer).await {
        let response = if request.method == "GET" && request.path.ends_with("/invocation/next") {
            api.polls.fetch_add(1, Ordering::SeqCst);
            let (id, event) = loop {
                let next = api.queue.lock().unwrap().pop_front();
                if let Some(next) = next {
                    break next;
                }
                api.ready.notified().await;
            };
            api.handed.lock().unwrap().insert(id, Instant::now());
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 10_000;
            let mut head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: {id}\r\nlambda-runtime-deadline-ms: {deadline}\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:authorizer\r\nlambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\ncontent-length: {}\r\n\r\n",
                event.len()
            )
            .into_bytes();
            head.extend_from_slice(&event);
            head
        } else if request.method == "POST" && request.path.contains("/invocation/") {
            let ok = request.path.ends_with("/response");
            let id: u64 = request
                .path
                .split('/')
                .rev()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(u64::MAX);
            if let Some(handed) = api.handed.lock().unwrap().remove(&id) {
                api.done.lock().unwrap().push((handed.elapsed(), ok));
            }
            let _ = request.body;
            api.finished.notify_one();
            b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_vec()
        } else {
            b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_vec()
        };
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}

async fn serve_jwks(
    document: Arc<Mutex<Arc<String>>>,
    hits: Arc<AtomicUsize>,
    mut stream: TcpStream,
) {
    let mut buffer = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buffer).await {
        if request.path != "/jwks" {
            let _ = stream
                .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                .await;
            continue;
        }
        hits.fetch_add(1, Ordering::SeqCst);
        let document = Arc::clone(&document.lock().unwrap());
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{document}",
            document.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// utime + stime of a process, in microseconds.
fn cpu_us(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks * 10_000 // CLK_TCK = 100 on Linux
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let binary = args
        .get(1)
        .expect("usage: load_driver BINARY [SECONDS] [LEVELS]")
        .clone();
    let seconds: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let levels: Vec<u32> = args
        .get(3)
        .map_or("1,2,8,32", String::as_str)
        .split(',')
        .filter_map(|l| l.trim().parse().ok())
        .collect();

    let root = env!("CARGO_MANIFEST_DIR");
    let pem = std::fs::read_to_string(format!("{root}/tests/keys/rsa-a.pem")).unwrap();
    let key = SigningKey::from_pem(&pem, "rsa-a", Algorithm::RS256).unwrap();
    let pem_b = std::fs::read_to_string(format!("{root}/tests/keys/rsa-b.pem")).unwrap();
    let rotated_key = SigningKey::from_pem(&pem_b, "rsa-b", Algorithm::RS256).unwrap();
    let event_of = |key: &SigningKey| {
        let token = key.mint(&workload::claims()).unwrap();
        Arc::new(workload::event(&token))
    };
    // Halfway through each level the issuer rotates: the new key joins the key set and
    // every new invocation carries a token signed with it, so all in-flight workers meet
    // the unknown kid at once: one refetch must serve them all.
    let before_rotation = event_of(&key);
    let after_rotation = event_of(&rotated_key);

    let (jwks_listener, jwks_port) = listen().await;
    let jwks_hits = Arc::new(AtomicUsize::new(0));
    let document = Arc::new(Mutex::new(Arc::new(String::new())));
    {
        let (document, hits) = (Arc::clone(&document), Arc::clone(&jwks_hits));
        tokio::spawn(async move {
            while let Ok((stream, _)) = jwks_listener.accept().await {
                tokio::spawn(serve_jwks(Arc::clone(&document), Arc::clone(&hits), stream));
            }
        });
    }

    let mut results = Vec::new();
    println!(
        "{:>11} {:>12} {:>9} {:>9} {:>13} {:>9} {:>11} {:>10}",
        "concurrency",
        "invocations",
        "per s",
        "p50 ms",
        "p99 ms",
        "CPU us/inv",
        "peak RSS MB",
        "key fetches"
    );
    for &level in &levels {
        let api = Arc::new(Api::default());
        let (listener, port) = listen().await;
        {
            let api = Arc::clone(&api);
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve_runtime_api(Arc::clone(&api), stream));
                }
            });
        }
        *document.lock().unwrap() = Arc::new(jwks(&[&key]).to_string());
        let mut event = Arc::clone(&before_rotation);
        let mut rotated = false;
        let fetches_before = jwks_hits.load(Ordering::SeqCst);
        let mut command = std::process::Command::new(&binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "authorizer")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "us-east-1")
            .env("TOKEN_ISSUER", ISSUER)
            .env("AUDIENCE", AUDIENCE)
            .env("JWKS_URI", format!("http://127.0.0.1:{jwks_port}/jwks"))
            .env("REQUIRED_SCOPES", "read:messages")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if level > 1 {
            command.env("AWS_LAMBDA_MAX_CONCURRENCY", level.to_string());
        }
        let mut child = command.spawn().expect("the authorizer starts");
        let pid = child.id();
        // Init is over when every worker polls /next.
        let started = Instant::now();
        while api.polls.load(Ordering::SeqCst) < level as usize {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the authorizer did not poll /next"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }

        let mut next_id = 0u64;
        let enqueue = |id: u64, event: &Arc<Vec<u8>>| {
            api.queue.lock().unwrap().push_back((id, Arc::clone(event)));
            api.ready.notify_one();
        };
        for _ in 0..level {
            enqueue(next_id, &event);
            next_id += 1;
        }
        let cpu_before = cpu_us(pid);
        let window = Instant::now();
        let run_for = Duration::from_secs_f64(seconds);
        let mut completed = 0usize;
        loop {
            api.finished.notified().await;
            let now_done = api.done.lock().unwrap().len();
            let finishing = window.elapsed() >= run_for;
            if !rotated && window.elapsed() >= run_for / 2 {
                *document.lock().unwrap() = Arc::new(jwks(&[&key, &rotated_key]).to_string());
                event = Arc::clone(&after_rotation);
                rotated = true;
            }
            while completed < now_done {
                completed += 1;
                if !finishing {
                    enqueue(next_id, &event);
                    next_id += 1;
                }
            }
            if finishing && completed as u64 >= next_id {
                break;
            }
            // Wake-ups can coalesce: make sure the wait below cannot miss the last one.
            if finishing {
                api.finished.notify_one();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let elapsed = window.elapsed();
        let cpu = cpu_us(pid).saturating_sub(cpu_before);
        let rss = peak_rss_kb(pid);
        let _ = child.kill();
        let _ = child.wait();

        let done = api.done.lock().unwrap().clone();
        let errors = done.iter().filter(|(_, ok)| !ok).count();
        let mut latencies: Vec<Duration> = done.iter().map(|(d, _)| *d).collect();
        latencies.sort();
        let n = latencies.len();
        let throughput = n as f64 / elapsed.as_secs_f64();
        let fetches = jwks_hits.load(Ordering::SeqCst) - fetches_before;
        let row = json!({
            "concurrency": level, "invocations": n, "errors": errors, "per_second": throughput.round(),
            "p50_ms": percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            "p99_ms": percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            "cpu_us_per_invocation": cpu as f64 / n.max(1) as f64,
            "peak_rss_mb": rss as f64 / 1024.0, "key_fetches": fetches,
        });
        println!(
            "{:>11} {:>12} {:>9.0} {:>9.3} {:>13.3} {:>9.1} {:>11.1} {:>10}",
            level,
            n,
            throughput,
            row["p50_ms"].as_f64().unwrap(),
            row["p99_ms"].as_f64().unwrap(),
            row["cpu_us_per_invocation"].as_f64().unwrap(),
            row["peak_rss_mb"].as_f64().unwrap(),
            fetches
        );
        assert_eq!(errors, 0, "every invocation must be allowed");
        assert_eq!(
            fetches, 2,
            "per execution environment, whatever the concurrency: one key fetch at init and one refetch for the rotation"
        );
        results.push(row);
    }
    let out = std::env::var("LOAD_RESULTS").unwrap_or_else(|_| "load-results.json".to_owned());
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap()).unwrap();
}
