//! The load benchmark: drives `POST /webhook` of the real `sunset serve`
//! binary and of a bare actix-web handler, the same way, in one run.
//!
//! ```sh
//! cargo build --release && cargo run --release --example loadtest -- --backend both
//! ```
//!
//! What one run does (see BENCHMARKS.md):
//! 1. starts a fake Graph API in a background thread; it answers sends like
//!    the Cloud API, records the instant of each send and queues the three
//!    status webhooks (`sent`, `delivered`, `read`) that Meta would post back;
//! 2. pre-generates unique, signed text-message webhooks (~900 bytes each);
//! 3. measures the baseline: this example again, as `--serve-baseline PORT`,
//!    a bare actix-web handler answering 200, as a subprocess;
//! 4. for each backend, measures the floor handler (`floor.rs`): the same
//!    example as `--serve-floor PORT`, the least a handler can do and still
//!    store every message through sqlx before its 200;
//! 5. for each backend, starts `target/release/sunset serve` as a subprocess
//!    on a fresh database, live against the fake, and drives it with the
//!    same connections for the same time: a status webhook whenever one is
//!    due (`sent` at once, `delivered` 0.5 s and `read` 2 s after the send),
//!    a new message otherwise;
//! 6. checks the sender's rate: `sunset pause`, queue enough notices,
//!    `sunset resume`, and count the sends at the fake.
//!
//! Errors end the run with a message (anyhow); every subprocess is killed
//! on the way out, and a watchdog ends everything after `--max-total-seconds`.

mod floor;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use sunset::signing::sign_webhook;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const APP_SECRET: &str = "bench-app-secret";
const PHONE_NUMBER_ID: &str = "100000000000001";
const DISPLAY_NUMBER: &str = "15550001111";
const WABA_ID: &str = "200000000000001";
const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;

#[derive(Parser, Debug, Clone)]
#[command(about = "Load benchmark of sunset's POST /webhook against a bare actix-web handler")]
struct Args {
    /// Which store(s) to measure: sqlite, postgres or both (one baseline for all).
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: BackendChoice,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds per target (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Unmeasured seconds of load before the measurement, per target.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// whatsapp.messages_per_second given to sunset.
    #[arg(long, default_value_t = 1000)]
    messages_per_second: u32,
    /// Seconds of sending counted by the sender-rate check (0 skips it).
    #[arg(long, default_value_t = 5.0)]
    rate_check_seconds: f64,
    /// Distinct users the messages come from.
    #[arg(long, default_value_t = 200_000)]
    users: u64,
    /// Unique message webhooks pre-generated (sunset stops when they run out;
    /// the baseline reuses them).
    #[arg(long, default_value_t = 150_000)]
    messages: usize,
    /// Hard cap on requests per target.
    #[arg(long, default_value_t = 5_000_000)]
    max_requests: u64,
    /// Everything is killed and the run fails after this many seconds.
    #[arg(long, default_value_t = 118)]
    max_total_seconds: u64,
    /// Load-generator threads (the fake Graph API has its own thread).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// PostgreSQL server; a fresh database is created on it and dropped after.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_url: String,
    /// The service binary (default: `sunset` next to this example's folder).
    #[arg(long)]
    sunset_bin: Option<PathBuf>,
    /// RUST_LOG for the service (default: unset, so the service's own default
    /// filter applies). Its log goes to a file in its temporary folder.
    #[arg(long)]
    server_log: Option<String>,
    /// Keep the service's log and print where it is.
    #[arg(long)]
    keep_logs: bool,
    /// Diagnosis only: post new messages alone, no status webhooks.
    #[arg(long)]
    no_statuses: bool,
    /// Skip the floor handlers (the least that stores each message).
    #[arg(long)]
    no_floor: bool,
    /// Internal: serve the bare baseline handler on this port and nothing else.
    #[arg(long, hide = true)]
    serve_baseline: Option<u16>,
    /// Internal: serve the floor handler on this port, storing into `--floor-db`.
    #[arg(long, hide = true, requires = "floor_db")]
    serve_floor: Option<u16>,
    /// Internal: the floor handler's database URL.
    #[arg(long, hide = true)]
    floor_db: Option<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum BackendChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------- children

/// Pids of running subprocesses, for the watchdog.
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A subprocess that is killed when dropped.
struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    fn spawn(command: &mut Command) -> Result<Self> {
        let child = command.spawn()?;
        lock(&CHILDREN).push(child.id());
        Ok(Self { child })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let pid = self.child.id();
        lock(&CHILDREN).retain(|p| *p != pid);
    }
}

fn start_watchdog(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!(
            "loadtest: still running after {} s: killing the subprocesses and giving up",
            limit.as_secs()
        );
        for pid in lock(&CHILDREN).iter() {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        std::process::exit(3);
    });
}

// ------------------------------------------------------------- /proc reads

/// VmHWM (peak resident set) of a process, in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU seconds used by a process so far.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3. Ticks are 1/100 s.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU seconds so far of every process named `postgres`: the server's
/// backends, writers and autovacuum, by pid.
fn postgres_cpu_seconds() -> BTreeMap<String, f64> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (comm.trim() == "postgres").then_some(())?;
            let pid = entry.file_name().into_string().ok()?;
            let cpu = cpu_seconds(&pid)?;
            Some((pid, cpu))
        })
        .collect()
}

/// CPU the PostgreSQL server used between two readings; a process that
/// started in between counts whole, one that ended is missed.
fn postgres_cpu_between(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> f64 {
    after
        .iter()
        .map(|(pid, cpu)| cpu - before.get(pid).copied().unwrap_or(0.0))
        .sum()
}

// --------------------------------------------------------- fake Graph API

/// When Meta posts each delivery report after the send: `sent` at once,
/// `delivered` once the phone got it, `read` once the user opened it.
const STATUS_DELAYS: [(&str, Duration); 3] = [
    ("sent", Duration::from_millis(0)),
    ("delivered", Duration::from_millis(500)),
    ("read", Duration::from_millis(2000)),
];

struct StatusJob {
    wamid: String,
    notice_id: String,
    recipient: String,
    status: &'static str,
}

/// The fake Cloud API: counts sends, timestamps them, queues status webhooks.
struct FakeGraph {
    epoch: Instant,
    sends: AtomicU64,
    /// Nanoseconds since `epoch`, one per accepted send.
    send_times: Mutex<Vec<u64>>,
    /// One queue per status, each in the order its reports fall due.
    statuses: Mutex<[VecDeque<(Instant, StatusJob)>; 3]>,
    queue_statuses: AtomicBool,
}

impl FakeGraph {
    fn sends_between(&self, from: Instant, to: Instant) -> Vec<u64> {
        let from = from.saturating_duration_since(self.epoch).as_nanos() as u64;
        let to = to.saturating_duration_since(self.epoch).as_nanos() as u64;
        let mut times: Vec<u64> = lock(&self.send_times)
            .iter()
            .copied()
            .filter(|t| (from..to).contains(t))
            .collect();
        times.sort_unstable();
        times
    }

    /// The next delivery report that Meta would have posted by now.
    fn pop_status(&self) -> Option<StatusJob> {
        let now = Instant::now();
        let mut queues = lock(&self.statuses);
        let queue = queues
            .iter_mut()
            .filter(|q| q.front().is_some_and(|(due, _)| *due <= now))
            .min_by_key(|q| q.front().map(|(due, _)| *due))?;
        queue.pop_front().map(|(_, job)| job)
    }

    fn clear_statuses(&self) {
        lock(&self.statuses).iter_mut().for_each(VecDeque::clear);
    }
}

async fn fake_graph_handler(
    request: HttpRequest,
    body: web::Bytes,
    graph: web::Data<FakeGraph>,
) -> HttpResponse {
    if request.method() != actix_web::http::Method::POST {
        // The sender's probe of a paused number.
        return HttpResponse::Ok().json(json!({"id": PHONE_NUMBER_ID}));
    }
    if !request.path().ends_with("/messages") {
        return HttpResponse::NotFound().finish();
    }
    let at = graph.epoch.elapsed().as_nanos() as u64;
    let n = graph.sends.fetch_add(1, Ordering::Relaxed);
    lock(&graph.send_times).push(at);
    let sent: Value = serde_json::from_slice(&body).unwrap_or_default();
    let input = sent
        .get("to")
        .or_else(|| sent.get("recipient"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let notice_id = sent
        .get("biz_opaque_callback_data")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let wamid = format!("wamid.HBgLMTU1NTAwMDExMTEVAgARGBI{n:012X}QkVOQ0gA");
    if graph.queue_statuses.load(Ordering::Relaxed) {
        let now = Instant::now();
        let mut queues = lock(&graph.statuses);
        for (queue, (status, delay)) in queues.iter_mut().zip(STATUS_DELAYS) {
            queue.push_back((
                now + delay,
                StatusJob {
                    wamid: wamid.clone(),
                    notice_id: notice_id.clone(),
                    recipient: input.clone(),
                    status,
                },
            ));
        }
    }
    HttpResponse::Ok().json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": input, "wa_id": input }],
        "messages": [{ "id": wamid }],
    }))
}

/// Starts the fake in its own thread (one actix worker); returns its port.
fn start_fake_graph() -> Result<(u16, Arc<FakeGraph>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let graph = Arc::new(FakeGraph {
        epoch: Instant::now(),
        sends: AtomicU64::new(0),
        send_times: Mutex::new(Vec::with_capacity(1 << 20)),
        statuses: Mutex::new([VecDeque::new(), VecDeque::new(), VecDeque::new()]),
        queue_statuses: AtomicBool::new(true),
    });
    let data = web::Data::from(Arc::clone(&graph));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        let result = system.block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(data.clone())
                    .app_data(web::PayloadConfig::new(MAX_WEBHOOK_BYTES))
                    .default_service(web::to(fake_graph_handler))
            })
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run();
            let _ = ready_tx.send(());
            server.await
        });
        if let Err(error) = result {
            eprintln!("loadtest: the fake Graph API stopped: {error}");
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .context("the fake Graph API did not start")?;
    Ok((port, graph))
}

// ------------------------------------------------------------ the baseline

/// `--serve-baseline PORT`: a bare handler answering 200 to the same POSTs,
/// with actix's default worker count, like the service.
fn serve_baseline(port: u16) -> Result<()> {
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| {
            App::new()
                .app_data(web::PayloadConfig::new(MAX_WEBHOOK_BYTES))
                .route(
                    "/webhook",
                    web::post().to(|_body: web::Bytes| async { HttpResponse::Ok().finish() }),
                )
                .route(
                    "/readyz",
                    web::get().to(|| async { HttpResponse::Ok().finish() }),
                )
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    Ok(())
}

// ---------------------------------------------------------------- bodies

struct Profile {
    /// Phone prefix (country code and a mobile range), then `digits` digits.
    prefix: &'static str,
    digits: u32,
    country: &'static str,
    names: &'static [&'static str],
    texts: &'static [&'static str],
}

const PROFILES: &[Profile] = &[
    Profile {
        prefix: "1202",
        digits: 7,
        country: "US",
        names: &["Jane Doe", "Michael Johnson", "Emily Carter", "Chris"],
        texts: &[
            "Hi! Good morning. Is the app still working? I can't log in since this morning and I have a lot of chats with my family in here. What do I need to do so I don't lose everything? Please tell me the steps, thanks a lot. I also tried reinstalling the app twice and clearing the cache but it still shows the same error screen every time.",
            "Hello, I got a message saying the service is ending on WhatsApp. Does that mean my account is deleted too? I still need my order history and the receipts for last year, where can I find them after the deadline? Also my brother uses the same number for his shop, will he get the message too or does he need to do something himself?",
            "hey is this still the right number to reach support?? my payment went through twice yesterday and nobody answered my email. I really need somebody to look at it before the weekend please. The reference number on my bank statement starts with 4471 and the amount was 89.90 both times",
        ],
    },
    Profile {
        prefix: "2010",
        digits: 8,
        country: "EG",
        names: &["أحمد علي", "منى حسن", "Mohamed Salah"],
        texts: &[
            "مرحبا، هل الخدمة ما زالت تعمل؟ لا أستطيع الدخول إلى حسابي منذ أمس وأحتاج إلى الرسائل القديمة مع العملاء. ماذا أفعل حتى لا أفقد المحادثات؟ جربت تحديث التطبيق وحذفه وتثبيته من جديد ولم ينجح، وما زالت نفس الرسالة تظهر عند تسجيل الدخول. هل يمكنكم مساعدتي اليوم من فضلكم؟",
            "السلام عليكم، وصلتني رسالة أن الخدمة ستتوقف على واتساب. هل سيتم حذف حسابي؟ وأين أجد التطبيق الرسمي؟ أخي يستخدم نفس الرقم لمحله التجاري، هل يجب عليه أن يفعل شيئا أيضا؟ وهل سأستطيع رؤية الفواتير القديمة بعد الموعد؟ أرجو الرد بسرعة وشكرا",
        ],
    },
    Profile {
        prefix: "49151",
        digits: 8,
        country: "DE",
        names: &["Lukas Müller", "Anna Schmidt"],
        texts: &[
            "Hallo zusammen, funktioniert der Dienst eigentlich noch? Ich komme seit heute Morgen nicht mehr in mein Konto und brauche dringend meine alten Nachrichten und Rechnungen. Was muss ich tun, damit nichts verloren geht? Ich habe die App schon zweimal neu installiert, aber es kommt immer derselbe Fehler beim Anmelden.",
            "Guten Tag, ich habe gelesen, dass der Service auf WhatsApp eingestellt wird. Bleibt mein Konto bestehen und wo finde ich die offizielle App? Meine Frau nutzt dieselbe Nummer für ihren Laden, muss sie auch etwas tun? Vielen Dank für eine kurze Antwort.",
        ],
    },
    Profile {
        prefix: "55119",
        digits: 8,
        country: "BR",
        names: &["João Silva", "Maria Oliveira"],
        texts: &[
            "Oi, tudo bem? O aplicativo ainda está funcionando? Não consigo entrar na minha conta desde ontem e preciso das conversas antigas com meus clientes. O que eu faço para não perder o histórico? Já reinstalei o aplicativo duas vezes e limpei o cache, mas continua aparecendo o mesmo erro.",
            "Bom dia! Recebi uma mensagem dizendo que o serviço vai acabar no WhatsApp. Minha conta vai ser apagada? Onde baixo o aplicativo oficial? Meu irmão usa o mesmo número na loja dele, ele também precisa fazer alguma coisa? Obrigado",
        ],
    },
    Profile {
        prefix: "346",
        digits: 8,
        country: "ES",
        names: &["Lucía García", "Javier López"],
        texts: &[
            "Hola, buenos días. ¿El servicio sigue funcionando? No puedo entrar en mi cuenta desde esta mañana y necesito mis mensajes y facturas antiguas. ¿Qué tengo que hacer para no perder nada antes de la fecha límite? Ya reinstalé la aplicación dos veces y borré la caché, pero sigue saliendo el mismo error al iniciar sesión.",
        ],
    },
    Profile {
        prefix: "9198",
        digits: 8,
        country: "IN",
        names: &["Rahul Sharma", "Priya Patel"],
        texts: &[
            "नमस्ते, क्या यह सेवा अभी भी काम कर रही है? मैं कल से अपने खाते में लॉग इन नहीं कर पा रहा हूँ। कृपया बताइए कि मुझे क्या करना चाहिए, मेरी सारी पुरानी बातचीत और बिल उसी में हैं। धन्यवाद।",
            "hello sir my account is not opening from yesterday, please check and tell me what to do, I have many important chats there and also the bills of my shop for last two years, I tried to reinstall also but same problem is coming. please reply fast it is urgent for my business, thank you",
        ],
    },
    Profile {
        prefix: "90532",
        digits: 7,
        country: "TR",
        names: &["Ayşe Yılmaz", "Mehmet Demir"],
        texts: &[
            "Merhaba, iyi günler. Hizmet hâlâ çalışıyor mu acaba? Dünden beri hesabıma giremiyorum ve eski mesajlarıma ihtiyacım var. Hiçbir şeyi kaybetmemek için ne yapmam gerekiyor? Uygulamayı iki kez yeniden yükledim ama giriş yaparken hep aynı hata çıkıyor. Eşim de aynı numarayı dükkânı için kullanıyor, onun da bir şey yapması gerekiyor mu? Teşekkürler.",
        ],
    },
    Profile {
        prefix: "62812",
        digits: 8,
        country: "ID",
        names: &["Budi Santoso", "Siti Rahayu"],
        texts: &[
            "Halo, apakah layanan ini masih berjalan? Saya tidak bisa masuk ke akun saya sejak kemarin dan saya butuh riwayat percakapan dengan pelanggan. Apa yang harus saya lakukan supaya tidak hilang? Saya sudah coba instal ulang aplikasinya dua kali tapi tetap muncul pesan error yang sama waktu login. Istri saya juga pakai nomor yang sama untuk tokonya, apakah dia juga harus melakukan sesuatu? Terima kasih.",
        ],
    },
];

/// Pre-built HTTP requests (headers and signed body) for the message webhooks.
struct Corpus {
    messages: Vec<Vec<u8>>,
    mean_message_body: usize,
    status_body: usize,
}

fn http_request(body: &[u8]) -> Vec<u8> {
    let signature = sign_webhook(APP_SECRET, body);
    let mut request = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: facebookexternalua\r\nAccept: */*\r\nContent-Type: application/json\r\nX-Hub-Signature-256: {signature}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn generate_corpus(count: usize, users: u64, run_tag: u32) -> Corpus {
    let mut rng = StdRng::seed_from_u64((0x5u64 << 32) | u64::from(run_tag));
    let now = jiff::Timestamp::now().as_second();
    let mut total = 0;
    let messages = (0..count)
        .map(|i| {
            let user = rng.random_range(0..users.max(1));
            let profile = &PROFILES[(user % PROFILES.len() as u64) as usize];
            let number = user % 10u64.pow(profile.digits);
            let wa_id = format!(
                "{}{:0width$}",
                profile.prefix,
                number,
                width = profile.digits as usize
            );
            let bsuid = format!("{}.BENCH{user:015}", profile.country);
            let name = profile.names[(user / 7) as usize % profile.names.len()];
            let text = profile.texts[rng.random_range(0..profile.texts.len())];
            let bytes = envelope(json!({
                "contacts": [{
                    "profile": { "name": name },
                    "wa_id": wa_id,
                    "user_id": bsuid,
                }],
                "messages": [{
                    "from": wa_id,
                    "from_user_id": bsuid,
                    "id": format!("wamid.HBgL{run_tag:08X}{i:010}RUJJTkNIAA=="),
                    "timestamp": (now - rng.random_range(0..5)).to_string(),
                    "type": "text",
                    "text": { "body": text },
                }],
            }));
            total += bytes.len();
            http_request(&bytes)
        })
        .collect();
    let sample_status = StatusJob {
        wamid: "wamid.HBgLMTU1NTAwMDExMTEVAgARGBI000000000000QkVOQ0gA".into(),
        notice_id: "12345".into(),
        recipient: "201001234567".into(),
        status: "delivered",
    };
    Corpus {
        messages,
        mean_message_body: total / count.max(1),
        status_body: status_body(&sample_status).len(),
    }
}

/// A delivery report as Meta posts it, signed.
fn status_request(job: &StatusJob) -> Vec<u8> {
    http_request(&status_body(job))
}

fn status_body(job: &StatusJob) -> Vec<u8> {
    let now = jiff::Timestamp::now().as_second();
    let bsuid_country = PROFILES
        .iter()
        .find(|p| job.recipient.starts_with(p.prefix))
        .map_or("US", |p| p.country);
    envelope(json!({
        "statuses": [{
            "id": job.wamid,
            "status": job.status,
            "timestamp": now.to_string(),
            "recipient_id": job.recipient,
            "recipient_user_id": format!("{bsuid_country}.BENCH{}", job.recipient),
            "biz_opaque_callback_data": job.notice_id,
            "conversation": {
                "id": "0d2a2b3c4d5e6f708192a3b4c5d6e7f8",
                "expiration_timestamp": (now + 86_400).to_string(),
                "origin": { "type": "service" },
            },
            "pricing": {
                "billable": false,
                "pricing_model": "PMP",
                "type": "free_customer_service",
                "category": "service",
            },
        }],
    }))
}

/// A webhook of the business number whose `value` holds `fields` beside
/// the product and the number's metadata, as JSON bytes.
fn envelope(fields: Value) -> Vec<u8> {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_NUMBER,
            "phone_number_id": PHONE_NUMBER_ID,
        },
    });
    if let (Some(value), Value::Object(fields)) = (value.as_object_mut(), fields) {
        value.extend(fields);
    }
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA_ID, "changes": [{ "value": value, "field": "messages" }] }],
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

// ---------------------------------------------------------- load generator

struct LoadSpec {
    addr: SocketAddr,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    max_requests: u64,
    corpus: Arc<Corpus>,
    /// Next message index, shared across phases of one target.
    next_message: Arc<AtomicUsize>,
    /// The baseline reuses messages; sunset stops when they run out.
    cycle_messages: bool,
    /// Post the fake's queued status webhooks before new messages.
    statuses: Option<Arc<FakeGraph>>,
}

#[derive(Default)]
struct ConnStats {
    messages_ok: u64,
    statuses_ok: u64,
    /// Requests answered with something else than 200, by status.
    non_200: BTreeMap<u16, u64>,
    errors: u64,
    message_latency_us: Vec<u32>,
    status_latency_us: Vec<u32>,
    exhausted: bool,
}

struct LoadResult {
    seconds: f64,
    messages_ok: u64,
    statuses_ok: u64,
    non_200: BTreeMap<u16, u64>,
    errors: u64,
    latency_us: Vec<u32>,
    message_latency_us: Vec<u32>,
    exhausted: bool,
    measure_start: Instant,
    measure_end: Instant,
}

impl LoadResult {
    fn webhooks_per_second(&self) -> f64 {
        (self.messages_ok + self.statuses_ok) as f64 / self.seconds
    }
}

/// Reads one HTTP/1.1 response; returns its status and whether the server
/// wants the connection closed.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(u16, bool)> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).context("response head")?;
            let mut lines = head.split("\r\n");
            let status: u16 = lines
                .next()
                .and_then(|l| l.split(' ').nth(1))
                .and_then(|s| s.parse().ok())
                .context("response status line")?;
            let mut length = 0usize;
            let mut close = false;
            for line in lines {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().context("content-length")?;
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.trim().eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    bail!("chunked responses are not expected here");
                }
            }
            let need = end + 4 + length;
            while buf.len() < need {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    bail!("connection closed mid-body");
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok((status, close));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn connection(
    spec: Arc<LoadSpec>,
    issued: Arc<AtomicU64>,
    measure_start: Instant,
    end: Instant,
) -> ConnStats {
    let mut stats = ConnStats::default();
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(8192);
    let per_request_timeout = Duration::from_secs(10);
    loop {
        let now = Instant::now();
        if now >= end || issued.fetch_add(1, Ordering::Relaxed) >= spec.max_requests {
            break;
        }
        let status_job = spec.statuses.as_ref().and_then(|g| g.pop_status());
        let status_request_bytes;
        let request: &[u8] = match &status_job {
            Some(job) => {
                status_request_bytes = status_request(job);
                &status_request_bytes
            }
            None => {
                let mut i = spec.next_message.fetch_add(1, Ordering::Relaxed);
                if i >= spec.corpus.messages.len() {
                    if !spec.cycle_messages {
                        stats.exhausted = true;
                        break;
                    }
                    i %= spec.corpus.messages.len();
                }
                &spec.corpus.messages[i]
            }
        };
        if stream.is_none() {
            match tokio::time::timeout(per_request_timeout, TcpStream::connect(spec.addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                _ => {
                    stats.errors += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        let started = Instant::now();
        let exchange = async {
            s.write_all(request).await?;
            read_response(s, &mut buf).await
        };
        let outcome = tokio::time::timeout(per_request_timeout, exchange).await;
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        let measured = started >= measure_start && started < end;
        match outcome {
            Ok(Ok((code, close))) => {
                if close {
                    stream = None;
                }
                if !measured {
                    continue;
                }
                if code == 200 {
                    if status_job.is_some() {
                        stats.statuses_ok += 1;
                        stats.status_latency_us.push(micros);
                    } else {
                        stats.messages_ok += 1;
                        stats.message_latency_us.push(micros);
                    }
                } else {
                    *stats.non_200.entry(code).or_default() += 1;
                }
            }
            _ => {
                stream = None;
                if measured {
                    stats.errors += 1;
                }
            }
        }
    }
    stats
}

async fn run_load(spec: LoadSpec) -> LoadResult {
    let spec = Arc::new(spec);
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_start = start + spec.warmup;
    let end = measure_start + spec.duration;
    let tasks: Vec<_> = (0..spec.connections)
        .map(|_| {
            tokio::spawn(connection(
                Arc::clone(&spec),
                Arc::clone(&issued),
                measure_start,
                end,
            ))
        })
        .collect();
    let mut result = LoadResult {
        seconds: 0.0,
        messages_ok: 0,
        statuses_ok: 0,
        non_200: BTreeMap::new(),
        errors: 0,
        latency_us: vec![],
        message_latency_us: vec![],
        exhausted: false,
        measure_start,
        measure_end: end,
    };
    for task in tasks {
        let Ok(stats) = task.await else {
            result.errors += 1;
            continue;
        };
        result.messages_ok += stats.messages_ok;
        result.statuses_ok += stats.statuses_ok;
        for (code, n) in stats.non_200 {
            *result.non_200.entry(code).or_default() += n;
        }
        result.errors += stats.errors;
        result.exhausted |= stats.exhausted;
        result
            .latency_us
            .extend_from_slice(&stats.message_latency_us);
        result
            .latency_us
            .extend_from_slice(&stats.status_latency_us);
        result.message_latency_us.extend(stats.message_latency_us);
    }
    // The measured time ends when the last request started in it was sent,
    // or earlier if the messages or the request cap ran out.
    let finished = Instant::now().min(end);
    result.measure_end = finished;
    result.seconds = finished
        .saturating_duration_since(measure_start)
        .as_secs_f64()
        .max(1e-3);
    result.latency_us.sort_unstable();
    result.message_latency_us.sort_unstable();
    result
}

fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted_us.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted_us[rank.min(sorted_us.len() - 1)]) / 1000.0
}

// ------------------------------------------------------------- the service

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_ready(
    http: &reqwest::Client,
    url: &str,
    child: &mut ChildGuard,
    log: Option<&Path>,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.exited() {
            let tail = log.map(log_tail).unwrap_or_default();
            bail!("the server exited before it was ready ({status}):\n{tail}");
        }
        if let Ok(response) = http.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tail = log.map(log_tail).unwrap_or_default();
    bail!("{url} did not answer 200 within 30 s:\n{tail}")
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sunset_binary(args: &Args) -> Result<PathBuf> {
    let path = match &args.sunset_bin {
        Some(path) => path.clone(),
        None => {
            // This example lives in <target>/release/examples/.
            let exe = std::env::current_exe()?;
            exe.parent()
                .and_then(Path::parent)
                .map(|dir| dir.join("sunset"))
                .context("cannot locate the target folder")?
        }
    };
    if !path.is_file() {
        bail!(
            "{} does not exist: build it first with `cargo build --release`",
            path.display()
        );
    }
    Ok(path)
}

/// The environment that runs the service live against the fake.
fn service_env(
    port: u16,
    database_url: &str,
    graph_port: u16,
    args: &Args,
) -> Vec<(String, String)> {
    let repo = repo_dir();
    [
        ("SUNSET_SERVER__BIND", format!("127.0.0.1:{port}")),
        ("SUNSET_SERVER__DATABASE_URL", database_url.to_owned()),
        (
            "SUNSET_WHATSAPP__GRAPH_API_BASE",
            format!("http://127.0.0.1:{graph_port}"),
        ),
        (
            "SUNSET_WHATSAPP__PHONE_NUMBER_IDS",
            format!("[\"{PHONE_NUMBER_ID}\"]"),
        ),
        (
            "SUNSET_WHATSAPP__MESSAGES_PER_SECOND",
            args.messages_per_second.to_string(),
        ),
        (
            "SUNSET_CONFIG",
            repo.join("sunset.toml").display().to_string(),
        ),
        (
            "SUNSET_LOCALES__DIR",
            repo.join("locales").display().to_string(),
        ),
        ("SUNSET_CAMPAIGN__MIN_REPLY_INTERVAL", "0s".into()),
        ("SUNSET_ACCESS_TOKEN", "bench-access-token".into()),
        ("SUNSET_APP_SECRET", APP_SECRET.into()),
        ("SUNSET_VERIFY_TOKEN", "bench-verify-token".into()),
        (
            "SUNSET_ADMIN_TOKEN",
            "bench-admin-token-0123456789abcdef".into(),
        ),
        (
            "SUNSET_ANALYST_TOKEN",
            "bench-analyst-token-0123456789abcdef".into(),
        ),
        (
            "SUNSET_SIGNING_KEY",
            "bench-signing-key-0123456789abcdef0123456789".into(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(args.server_log.clone().map(|v| ("RUST_LOG".to_owned(), v)))
    .collect()
}

fn service_command(bin: &Path, subcommand: &str, env: &[(String, String)], dir: &Path) -> Command {
    let mut command = Command::new(bin);
    command.arg(subcommand).current_dir(dir);
    // Nothing from the caller's SUNSET_* or RUST_LOG may change what is measured.
    for (key, _) in std::env::vars() {
        if key.starts_with("SUNSET_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

/// A fresh PostgreSQL database; dropped by `drop_database`.
async fn create_database(server_url: &str, name: &str) -> Result<(String, String)> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(server_url)
        .await
        .with_context(|| format!("cannot connect to {server_url}"))?;
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
    )
    .await?;
    admin.close().await?;
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server_url, String::new()),
    };
    let path_from = base.find("://").map_or(0, |i| i + 3);
    let server_part = base[path_from..]
        .find('/')
        .map_or(base, |i| &base[..path_from + i]);
    Ok((name.to_owned(), format!("{server_part}/{name}{query}")))
}

/// A fresh database of the backend for `purpose`: a file in `dir`, or a
/// PostgreSQL database, whose name comes back for [`forget_database`].
async fn fresh_database(
    backend: Backend,
    args: &Args,
    ctx: &RunContext,
    dir: &Path,
    purpose: &str,
) -> Result<(String, Option<String>)> {
    Ok(match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join(format!("{purpose}.db")).display()),
            None,
        ),
        Backend::Postgres => {
            let name = format!("sunset_{purpose}_{:08x}", ctx.run_tag);
            let (name, url) = create_database(&args.pg_url, &name).await?;
            (url, Some(name))
        }
    })
}

/// Drops the PostgreSQL database [`fresh_database`] made, if any.
async fn forget_database(args: &Args, pg_name: Option<String>) {
    if let Some(name) = pg_name
        && let Err(error) = drop_database(&args.pg_url, &name).await
    {
        eprintln!("loadtest: could not drop the database {name}: {error}");
    }
}

async fn drop_database(server_url: &str, name: &str) -> Result<()> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(server_url).await?;
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
    )
    .await?;
    admin.close().await?;
    Ok(())
}

async fn metric(http: &reqwest::Client, base: &str, name: &str) -> Result<f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("{name} is not in /metrics"))
}

async fn metric_lines(http: &reqwest::Client, base: &str, prefix: &str) -> Vec<String> {
    let Ok(response) = http.get(format!("{base}/metrics")).send().await else {
        return vec![];
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

struct RateCheck {
    /// Median and 99th percentile gap between consecutive sends, in ms.
    gap_p50_ms: f64,
    gap_p99_ms: f64,
    /// Gaps over 5 ms (the sender between two claimed batches), and their sum.
    long_gaps: usize,
    long_gaps_ms: f64,
    queued_before: f64,
    window_seconds: f64,
    sends_in_window: usize,
    achieved_per_second: f64,
    max_in_one_second: usize,
    queue_left_after: f64,
}

struct SunsetResult {
    backend: Backend,
    load: LoadResult,
    sends_during_load: usize,
    peak_rss_kb: Option<u64>,
    server_cpu_seconds: Option<f64>,
    /// This process: load generator and fake Graph API.
    loadgen_cpu_seconds: Option<f64>,
    /// The PostgreSQL server's processes, for the PostgreSQL run.
    database_cpu_seconds: Option<f64>,
    rate_check: Option<RateCheck>,
    max_sends_any_second_whole_run: usize,
    decisions: Vec<String>,
    send_results: Vec<String>,
}

/// The largest number of sends in any window [t, t + 1 s) (`times` sorted).
fn max_in_one_second(times: &[u64]) -> usize {
    let mut best = 0;
    let mut first = 0;
    for (last, &t) in times.iter().enumerate() {
        while times[first] + 1_000_000_000 <= t {
            first += 1;
        }
        best = best.max(last + 1 - first);
    }
    best
}

async fn run_service(backend: Backend, args: &Args, ctx: &RunContext) -> Result<SunsetResult> {
    let bin = sunset_binary(args)?;
    let dir = tempfile::Builder::new().prefix("sunset-bench-").tempdir()?;
    let (database_url, pg_name) = fresh_database(backend, args, ctx, dir.path(), "bench").await?;
    let result = drive_service(backend, args, ctx, &bin, dir.path(), &database_url).await;
    forget_database(args, pg_name).await;
    if args.keep_logs {
        let kept = dir.keep();
        eprintln!(
            "loadtest: {} log kept in {}",
            backend.name(),
            kept.join("server.log").display()
        );
    }
    result
}

async fn drive_service(
    backend: Backend,
    args: &Args,
    ctx: &RunContext,
    bin: &Path,
    dir: &Path,
    database_url: &str,
) -> Result<SunsetResult> {
    let port = free_port()?;
    let env = service_env(port, database_url, ctx.graph_port, args);
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path)?;
    let mut child = ChildGuard::spawn(
        service_command(bin, "serve", &env, dir)
            .stdout(log.try_clone()?)
            .stderr(log),
    )
    .with_context(|| format!("cannot start {}", bin.display()))?;
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(
        &ctx.http,
        &format!("{base}/readyz"),
        &mut child,
        Some(&log_path),
    )
    .await?;
    let pid = child.pid().to_string();
    ctx.graph.queue_statuses.store(true, Ordering::Relaxed);
    ctx.graph.clear_statuses();
    let run_started = Instant::now();
    let next_message = Arc::new(AtomicUsize::new(0));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let cpu_timer = {
        let pid = pid.clone();
        let warmup = Duration::from_secs_f64(args.warmup);
        let seconds = Duration::from_secs_f64(args.seconds);
        tokio::spawn(async move {
            tokio::time::sleep(warmup).await;
            let before = cpu_seconds(&pid);
            let own_before = cpu_seconds("self");
            let database_before = (backend == Backend::Postgres).then(postgres_cpu_seconds);
            tokio::time::sleep(seconds).await;
            let own = cpu_seconds("self").zip(own_before).map(|(a, b)| a - b);
            let database = database_before
                .map(|before| postgres_cpu_between(&before, &postgres_cpu_seconds()));
            let server = cpu_seconds(&pid)? - before?;
            Some((server, own, database))
        })
    };
    let load = run_load(LoadSpec {
        addr,
        connections: args.connections,
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.seconds),
        max_requests: args.max_requests,
        corpus: Arc::clone(&ctx.corpus),
        next_message: Arc::clone(&next_message),
        cycle_messages: false,
        statuses: (!args.no_statuses).then(|| Arc::clone(&ctx.graph)),
    })
    .await;
    let (server_cpu_seconds, loadgen_cpu_seconds, database_cpu_seconds) =
        match cpu_timer.await.ok().flatten() {
            Some((server, own, database)) => (Some(server), own, database),
            None => (None, None, None),
        };
    let sends_during_load = ctx
        .graph
        .sends_between(load.measure_start, load.measure_end)
        .len();
    let rate_check = if args.rate_check_seconds > 0.0 {
        Some(
            rate_check(args, ctx, bin, dir, &env, &base, addr, &next_message)
                .await
                .context("sender-rate check")?,
        )
    } else {
        None
    };
    let all_sends = ctx.graph.sends_between(run_started, Instant::now());
    let mut decisions = metric_lines(&ctx.http, &base, "sunset_webhooks_received_total").await;
    decisions.extend(metric_lines(&ctx.http, &base, "sunset_decisions_total").await);
    let send_results = metric_lines(&ctx.http, &base, "sunset_sends_total").await;
    let peak_rss_kb = peak_rss_kb(child.pid());
    if let Some(status) = child.exited() {
        bail!(
            "the {} server exited during the run ({status}):\n{}",
            backend.name(),
            log_tail(&log_path)
        );
    }
    drop(child);
    Ok(SunsetResult {
        backend,
        load,
        sends_during_load,
        peak_rss_kb,
        server_cpu_seconds,
        loadgen_cpu_seconds,
        database_cpu_seconds,
        rate_check,
        max_sends_any_second_whole_run: max_in_one_second(&all_sends),
        decisions,
        send_results,
    })
}

/// Pause sending, queue enough notices, resume, and watch the sends arrive.
#[allow(clippy::too_many_arguments)]
async fn rate_check(
    args: &Args,
    ctx: &RunContext,
    bin: &Path,
    dir: &Path,
    env: &[(String, String)],
    base: &str,
    addr: SocketAddr,
    next_message: &Arc<AtomicUsize>,
) -> Result<RateCheck> {
    let window = Duration::from_secs_f64(args.rate_check_seconds);
    let run_cli = |subcommand: &str| -> Result<()> {
        let output = service_command(bin, subcommand, env, dir)
            .stdin(Stdio::null())
            .output()?;
        if !output.status.success() {
            bail!(
                "`sunset {subcommand}` failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    };
    ctx.graph.queue_statuses.store(false, Ordering::Relaxed);
    ctx.graph.clear_statuses();
    run_cli("pause")?;
    // The notices the sender already holds still go out (up to a quarter
    // of a second of them): wait until the fake has heard nothing for a
    // while, or the window would open on one of them and count the time
    // the sender takes to notice `resume` as a gap.
    let quiet = Duration::from_millis(300);
    let drain_deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(quiet / 3).await;
        let now = Instant::now();
        if ctx.graph.sends_between(now - quiet, now).is_empty() || now > drain_deadline {
            break;
        }
    }
    let wanted = (f64::from(args.messages_per_second) * (window.as_secs_f64() + 1.0) * 1.2).ceil();
    let depth = metric(&ctx.http, base, "sunset_queue_depth").await?;
    let fill_started = Instant::now();
    if depth < wanted {
        let missing = (wanted - depth) as u64;
        let fill = run_load(LoadSpec {
            addr,
            connections: args.connections,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(25),
            max_requests: missing,
            corpus: Arc::clone(&ctx.corpus),
            next_message: Arc::clone(next_message),
            cycle_messages: false,
            statuses: None,
        })
        .await;
        if fill.messages_ok < missing {
            eprintln!(
                "loadtest: the sender-rate check queued only {} of {missing} more notices",
                fill.messages_ok
            );
        }
    }
    let queued_before = metric(&ctx.http, base, "sunset_queue_depth").await?;
    eprintln!(
        "loadtest:   sender-rate check: {depth:.0} notices were queued, {queued_before:.0} after {:.1} s of filling",
        fill_started.elapsed().as_secs_f64()
    );
    let resumed = Instant::now();
    run_cli("resume")?;
    // The sender notices within its 500 ms idle tick; count a full window
    // from its first send.
    let first_deadline = resumed + Duration::from_secs(3);
    let first = loop {
        if let Some(&t) = ctx.graph.sends_between(resumed, Instant::now()).first() {
            break t;
        }
        if Instant::now() > first_deadline {
            bail!("no send reached the fake within 3 s of `sunset resume`");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let first_at = ctx.graph.epoch + Duration::from_nanos(first);
    tokio::time::sleep_until((first_at + window + Duration::from_millis(200)).into()).await;
    let queue_left_after = metric(&ctx.http, base, "sunset_queue_depth").await?;
    let times = ctx.graph.sends_between(first_at, first_at + window);
    let achieved = match (times.first(), times.last()) {
        (Some(a), Some(b)) if times.len() > 1 && b > a => {
            (times.len() - 1) as f64 / ((b - a) as f64 / 1e9)
        }
        _ => 0.0,
    };
    let mut gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let gap_ms = |p: f64| {
        gaps.get(((gaps.len().saturating_sub(1)) as f64 * p).round() as usize)
            .map_or(f64::NAN, |g| *g as f64 / 1e6)
    };
    let long: Vec<u64> = gaps.iter().copied().filter(|g| *g > 5_000_000).collect();
    Ok(RateCheck {
        gap_p50_ms: gap_ms(0.5),
        gap_p99_ms: gap_ms(0.99),
        long_gaps: long.len(),
        long_gaps_ms: long.iter().sum::<u64>() as f64 / 1e6,
        queued_before,
        window_seconds: window.as_secs_f64(),
        sends_in_window: times.len(),
        achieved_per_second: achieved,
        max_in_one_second: max_in_one_second(&ctx.graph.sends_between(resumed, Instant::now())),
        queue_left_after,
    })
}

struct RunContext {
    graph: Arc<FakeGraph>,
    graph_port: u16,
    corpus: Arc<Corpus>,
    http: reqwest::Client,
    run_tag: u32,
}

async fn run_baseline(args: &Args, ctx: &RunContext) -> Result<(LoadResult, Option<u64>)> {
    run_reference(args, ctx, &["--serve-baseline"]).await
}

/// The floor handler on a fresh database of the backend, dropped after.
async fn run_floor(
    backend: Backend,
    args: &Args,
    ctx: &RunContext,
) -> Result<(LoadResult, Option<u64>)> {
    let dir = tempfile::Builder::new().prefix("sunset-floor-").tempdir()?;
    let (url, pg_name) = fresh_database(backend, args, ctx, dir.path(), "floor").await?;
    let result = run_reference(args, ctx, &["--floor-db", &url, "--serve-floor"]).await;
    forget_database(args, pg_name).await;
    result
}

/// Runs this example with `flags` and a free port as a subprocess, and
/// drives it with new messages alone (reused when they run out).
async fn run_reference(
    args: &Args,
    ctx: &RunContext,
    flags: &[&str],
) -> Result<(LoadResult, Option<u64>)> {
    let port = free_port()?;
    let exe = std::env::current_exe()?;
    let mut child = ChildGuard::spawn(
        Command::new(exe)
            .args(flags)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )?;
    wait_ready(
        &ctx.http,
        &format!("http://127.0.0.1:{port}/readyz"),
        &mut child,
        None,
    )
    .await?;
    let load = run_load(LoadSpec {
        addr: format!("127.0.0.1:{port}").parse()?,
        connections: args.connections,
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.seconds),
        max_requests: args.max_requests,
        corpus: Arc::clone(&ctx.corpus),
        next_message: Arc::new(AtomicUsize::new(0)),
        cycle_messages: true,
        statuses: None,
    })
    .await;
    let rss = peak_rss_kb(child.pid());
    if let Some(status) = child.exited() {
        bail!("{} exited during the run ({status})", flags.join(" "));
    }
    Ok((load, rss))
}

// ---------------------------------------------------------------- report

fn errors_text(load: &LoadResult) -> String {
    let mut parts: Vec<String> = load
        .non_200
        .iter()
        .map(|(code, n)| format!("{n}×HTTP {code}"))
        .collect();
    if load.errors > 0 {
        parts.push(format!("{} transport errors/timeouts", load.errors));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

fn report(
    args: &Args,
    ctx: &RunContext,
    (baseline, baseline_rss): (&LoadResult, Option<u64>),
    floors: &[(Backend, (LoadResult, Option<u64>))],
    results: &[SunsetResult],
) {
    let base_rate = baseline.webhooks_per_second();
    println!();
    println!(
        "sunset load benchmark, {} ({} CPU cores; load generator, fake Graph API and server on the same machine)",
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{} connections, {} s measured after {} s warm-up; message bodies {} B on average, status bodies {} B; messages_per_second={}",
        args.connections,
        args.seconds,
        args.warmup,
        ctx.corpus.mean_message_body,
        ctx.corpus.status_body,
        args.messages_per_second
    );
    println!();
    println!(
        "{:<18} {:>11} {:>10} {:>10} {:>8} {:>8} {:>8} {:>9}",
        "target", "webhooks/s", "messages/s", "statuses/s", "p50 ms", "p99 ms", "max ms", "vs base"
    );
    let row = |name: &str, load: &LoadResult| {
        let rate = load.webhooks_per_second();
        println!(
            "{:<18} {:>11.0} {:>10.0} {:>10.0} {:>8.2} {:>8.2} {:>8.1} {:>8.1}%",
            name,
            rate,
            load.messages_ok as f64 / load.seconds,
            load.statuses_ok as f64 / load.seconds,
            percentile_ms(&load.latency_us, 0.50),
            percentile_ms(&load.latency_us, 0.99),
            percentile_ms(&load.latency_us, 1.0),
            100.0 * rate / base_rate
        );
    };
    row("baseline (bare)", baseline);
    for (backend, (load, _)) in floors {
        row(&format!("floor {}", backend.name()), load);
    }
    for r in results {
        row(&format!("sunset {}", r.backend.name()), &r.load);
    }
    println!();
    println!(
        "baseline: {} requests, errors: {}, peak RSS {}",
        baseline.messages_ok,
        errors_text(baseline),
        baseline_rss.map_or("?".into(), |kb| format!("{:.1} MB", kb as f64 / 1024.0))
    );
    for (backend, (load, rss)) in floors {
        println!(
            "floor {}: {} messages stored, errors: {}, peak RSS {}",
            backend.name(),
            load.messages_ok,
            errors_text(load),
            rss.map_or("?".into(), |kb| format!("{:.1} MB", kb as f64 / 1024.0))
        );
    }
    for r in results {
        let load = &r.load;
        println!();
        println!("sunset {}:", r.backend.name());
        if let Some((_, (floor, _))) = floors.iter().find(|(b, _)| *b == r.backend) {
            println!(
                "  {:.0}% of the floor handler's rate on the same store",
                100.0 * load.webhooks_per_second() / floor.webhooks_per_second()
            );
        }
        println!(
            "  answered 200: {} messages + {} status webhooks in {:.1} s; errors: {}{}",
            load.messages_ok,
            load.statuses_ok,
            load.seconds,
            errors_text(load),
            if load.exhausted {
                " (ran out of pre-generated messages: raise --messages)"
            } else {
                ""
            }
        );
        println!(
            "  message webhooks alone: p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
            percentile_ms(&load.message_latency_us, 0.50),
            percentile_ms(&load.message_latency_us, 0.99),
            percentile_ms(&load.message_latency_us, 1.0),
        );
        println!(
            "  sends/s at the fake during the load: {:.0}",
            r.sends_during_load as f64 / load.seconds
        );
        let handled = (load.messages_ok + load.statuses_ok).max(1) as f64;
        let cpu_lines = [
            ("server CPU during the load", r.server_cpu_seconds),
            ("PostgreSQL server CPU meanwhile", r.database_cpu_seconds),
        ];
        for (what, cpu) in cpu_lines {
            if let Some(cpu) = cpu {
                println!(
                    "  {what}: {:.2} cores, {:.0} µs per webhook",
                    cpu / args.seconds,
                    cpu * 1e6 / handled
                );
            }
        }
        if let Some(cpu) = r.loadgen_cpu_seconds {
            println!(
                "  load generator + fake Graph API CPU meanwhile: {:.2} cores",
                cpu / args.seconds
            );
        }
        println!(
            "  peak RSS of the server (VmHWM): {}",
            r.peak_rss_kb
                .map_or("?".into(), |kb| format!("{:.1} MB", kb as f64 / 1024.0))
        );
        if let Some(check) = &r.rate_check {
            let limit = args.messages_per_second as usize;
            let within = (check.achieved_per_second - f64::from(args.messages_per_second)).abs()
                <= 0.02 * f64::from(args.messages_per_second);
            println!(
                "  sender-rate check: {:.0} notices queued, then {} sends in {:.1} s: {:.1} sends/s ({:+.2}% of {}, {}); max in any 1-s window {} ({}); {:.0} still queued after",
                check.queued_before,
                check.sends_in_window,
                check.window_seconds,
                check.achieved_per_second,
                100.0 * (check.achieved_per_second / f64::from(args.messages_per_second) - 1.0),
                args.messages_per_second,
                if within { "within 2%" } else { "NOT within 2%" },
                check.max_in_one_second,
                if check.max_in_one_second <= limit {
                    "never above the limit"
                } else {
                    "ABOVE the limit"
                },
                check.queue_left_after,
            );
            println!(
                "  gaps between sends: p50 {:.2} ms, p99 {:.2} ms; {} gaps over 5 ms, {:.0} ms in all",
                check.gap_p50_ms, check.gap_p99_ms, check.long_gaps, check.long_gaps_ms
            );
        }
        println!(
            "  max sends in any 1-s window over the whole run: {}",
            r.max_sends_any_second_whole_run
        );
        for line in r.decisions.iter().chain(&r.send_results) {
            println!("  {line}");
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(port) = args.serve_baseline {
        return serve_baseline(port);
    }
    if let (Some(port), Some(url)) = (args.serve_floor, &args.floor_db) {
        return floor::serve(port, url, APP_SECRET);
    }
    let started = Instant::now();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    start_watchdog(Duration::from_secs(args.max_total_seconds));
    let backends = match args.backend {
        BackendChoice::Sqlite => vec![Backend::Sqlite],
        BackendChoice::Postgres => vec![Backend::Postgres],
        BackendChoice::Both => vec![Backend::Sqlite, Backend::Postgres],
    };
    sunset_binary(&args)?;
    let run_tag: u32 = rand::random();
    let (graph_port, graph) = start_fake_graph()?;
    eprintln!(
        "loadtest: pre-generating {} signed message webhooks",
        args.messages
    );
    let corpus = Arc::new(generate_corpus(args.messages, args.users, run_tag));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()?;
    let ctx = RunContext {
        graph,
        graph_port,
        corpus,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        run_tag,
    };
    runtime.block_on(async {
        eprintln!(
            "loadtest: baseline, a bare actix-web handler (at {:.1} s)",
            started.elapsed().as_secs_f64()
        );
        let (baseline, baseline_rss) = run_baseline(&args, &ctx).await?;
        let mut results = vec![];
        let mut floors = vec![];
        for backend in backends {
            if !args.no_floor {
                eprintln!(
                    "loadtest: the floor handler on {} (at {:.1} s)",
                    backend.name(),
                    started.elapsed().as_secs_f64()
                );
                floors.push((backend, run_floor(backend, &args, &ctx).await?));
            }
            eprintln!(
                "loadtest: sunset on {} (at {:.1} s)",
                backend.name(),
                started.elapsed().as_secs_f64()
            );
            results.push(run_service(backend, &args, &ctx).await?);
        }
        report(&args, &ctx, (&baseline, baseline_rss), &floors, &results);
        println!();
        println!(
            "total time {:.1} s; load average before the run: {}, after: {}",
            started.elapsed().as_secs_f64(),
            load_before
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
        Ok::<_, anyhow::Error>(())
    })
}
