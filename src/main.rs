//! The `sunset` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use sunset::campaign::Campaign;
use sunset::commands::export::{self, Format as ExportFormat};
use sunset::commands::preview::{self, PreviewError, Standing};
use sunset::commands::simulate::{self, SimulatedMessage};
use sunset::config::Config;
use sunset::domain::countdown::Phase;
use sunset::startup::{self, Application};
use sunset::store::{PausedNumber, Store};

/// Answers every WhatsApp message with a localized shutdown notice, counts
/// down to the deadline and logs what happened to each notice.
#[derive(Parser)]
#[command(name = "sunset", version, about, long_about = None)]
struct Cli {
    /// The settings file [default: sunset.toml, if there is one; without
    /// it every setting comes from SUNSET_* variables]. A file named here
    /// must exist.
    #[arg(long, global = true, env = "SUNSET_CONFIG", value_parser = existing_file)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve webhooks and send notices (dry-run without SUNSET_ACCESS_TOKEN).
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Post a signed test webhook to a running service and show what it did.
    Simulate {
        /// The sender: a phone number (201001234567, +20 100 123 4567) or a BSUID (EG.…).
        #[arg(long, value_parser = parse_sender)]
        from: String,
        /// The message text (the caption for image, video and document, the
        /// title of a button or interactive reply).
        #[arg(long)]
        text: Option<String>,
        /// The WhatsApp message type: text, image, audio, video, document, reaction, …
        #[arg(long = "type", default_value = "text")]
        kind: String,
        /// The business number written to; defaults to the first of whatsapp.phone_number_ids.
        #[arg(long)]
        to: Option<String>,
        /// The service's base URL; defaults to http://<server.bind>.
        #[arg(long, value_parser = parse_base_url)]
        url: Option<String>,
    },
    /// Print the exact text a user would receive now.
    Preview {
        /// The locale, e.g. en, ar, pt-BR.
        #[arg(long)]
        locale: String,
        /// Pretend this many days are left (0: the final day).
        #[arg(long, conflicts_with = "phase", allow_negative_numbers = true)]
        days: Option<u32>,
        /// Pretend the campaign is in this phase: countdown, final_day or ended.
        #[arg(long, value_parser = parse_phase)]
        phase: Option<Phase>,
        /// The user's country (two-letter ISO code, e.g. EG), for regional digits.
        #[arg(long, value_parser = parse_country)]
        country: Option<String>,
    },
    /// Write the notification log as CSV or JSON Lines.
    Export {
        /// csv (with a UTF-8 BOM, formula cells defused) or jsonl.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Only rows received at or after this RFC 3339 instant.
        #[arg(long)]
        since: Option<jiff::Timestamp>,
        /// Only rows received before this RFC 3339 instant.
        #[arg(long)]
        until: Option<jiff::Timestamp>,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Clear phone numbers, BSUIDs and profile names instead of pseudonyms.
        #[arg(long)]
        reveal: bool,
    },
    /// Pseudonymize users and notice texts older than a limit (opt-outs are kept).
    Purge {
        /// e.g. 90d; at least 7d, since Meta retries webhooks for 7 days.
        #[arg(long, value_parser = parse_age)]
        older_than: jiff::SignedDuration,
    },
    /// Erase one person: every message, notice and record of them.
    Forget {
        /// Their phone number (201001234567, +20 100 123 4567) or BSUID (EG.…).
        #[arg(long, value_parser = parse_sender)]
        user: String,
    },
    /// Work with the locale files.
    #[command(subcommand)]
    Locales(LocalesCommand),
    /// Stop sending to every number (webhooks are still taken and queued).
    Pause,
    /// Restart sending: lifts the operator's pause and every paused number.
    Resume,
}

#[derive(Subcommand)]
enum LocalesCommand {
    /// Parse every locale, compare it with en, render every message for every
    /// phase and day count 0–400; print `file:line: problem`, exit 1 on any.
    Check,
    /// Check, then store the locale set in the database: every box serves
    /// the newest published version within seconds.
    Publish,
}

/// Meta retries webhooks for 7 days: their ids must stay until then.
const MIN_RETENTION: jiff::SignedDuration = sunset::store::META_RETRIES;

fn parse_age(raw: &str) -> Result<jiff::SignedDuration, String> {
    let age = sunset::config::parse_duration(raw)?;
    if age < MIN_RETENTION {
        return Err("must be at least 7d: Meta still retries webhooks that young".into());
    }
    Ok(age)
}

/// A settings file named on the command line or in SUNSET_CONFIG.
fn existing_file(path: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(path);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("no settings file at {}", path.display()))
    }
}

/// A phone number or a BSUID, as `simulate --from` and `forget --user` take them.
fn parse_sender(raw: &str) -> Result<String, String> {
    sunset::domain::ids::user_key(raw)
        .ok_or_else(|| "expected a phone number in digits (201001234567) or a BSUID (EG.…)".into())
}

fn parse_country(raw: &str) -> Result<String, String> {
    if raw.len() == 2 && raw.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(raw.to_ascii_uppercase())
    } else {
        Err("expected a two-letter ISO country code, e.g. EG".into())
    }
}

fn parse_base_url(raw: &str) -> Result<String, String> {
    match reqwest::Url::parse(raw) {
        Ok(url) if ["http", "https"].contains(&url.scheme()) && url.has_host() => {
            Ok(raw.to_owned())
        }
        _ => Err("expected the service's base URL, e.g. http://127.0.0.1:8080".into()),
    }
}

fn parse_phase(raw: &str) -> Result<Phase, String> {
    Phase::parse(raw).ok_or_else(|| "expected countdown, final_day or ended".into())
}

#[tokio::main]
async fn main() -> ExitCode {
    sunset::telemetry::init();
    let cli = Cli::parse();
    let settings_file = cli.config.unwrap_or_else(|| PathBuf::from("sunset.toml"));
    let config = match Config::load(&settings_file) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("sunset: {error}");
            return ExitCode::from(1);
        }
    };
    match run(cli.command, config).await {
        Ok(code) => code,
        // The reader went away (`export | head`): it has all it wanted.
        Err(error) if is_closed_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sunset: {}", causes(&error));
            ExitCode::from(1)
        }
    }
}

/// An error and its causes on one line, leaving out a cause that the
/// message before it already quotes (sqlx's errors repeat their source).
fn causes(error: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut last = String::new();
    for cause in error.chain().map(ToString::to_string) {
        if !last.contains(&cause) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&cause);
            last = cause;
        }
    }
    line
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => {
            for warning in config.warnings() {
                tracing::warn!("{warning}");
            }
            let app = Application::build(&config).await?;
            tracing::info!(
                port = app.port(),
                live = config.secrets.is_live(),
                "sunset is serving"
            );
            app.run_until_stopped(true).await?;
        }
        Command::Migrate => {
            startup::open_store(&config.settings.server.database_url).await?;
            println!(
                "migrations applied; the database is up to date: {}",
                startup::shown_url(&config.settings.server.database_url)
            );
        }
        Command::Simulate {
            from,
            text,
            kind,
            to,
            url,
        } => {
            let store =
                existing_store(&config.settings.server.database_url, "read the notice from")
                    .await?;
            let phone_number_id = to
                .or_else(|| config.settings.whatsapp.phone_number_ids.first().cloned())
                .unwrap_or_else(|| "100000000000001".into());
            let url = url.unwrap_or_else(|| format!("http://{}", config.bind));
            let message = SimulatedMessage {
                from,
                text,
                kind,
                phone_number_id,
            };
            let entry = simulate::run(&config, store.as_ref(), &url, &message).await?;
            print_entry(&entry);
        }
        Command::Preview {
            locale,
            days,
            phase,
            country,
        } => {
            let sample = Campaign::from_config(&config).sample_args();
            // A box serves the newest published set over its folder.
            let store = startup::open_existing_store(&config.settings.server.database_url).await?;
            let published = match store {
                Some(store) => {
                    let default_locale = &config.settings.campaign.default_locale;
                    sunset::locale_sync::published_catalog(store.as_ref(), default_locale, &sample)
                        .await?
                }
                None => None,
            };
            let catalog = published.map_or_else(|| startup::load_catalog(&config, &sample), Ok)?;
            let standing = match (days, phase) {
                (Some(days), _) => Standing::Days(i64::from(days)),
                (None, Some(phase)) => Standing::Phase(phase),
                (None, None) => Standing::Now,
            };
            match preview::render(&config, &catalog, &locale, standing, country.as_deref()) {
                // A closed pipe (`| head`) is an error, not a panic.
                Ok(text) => writeln!(std::io::stdout(), "{text}")?,
                Err(error @ PreviewError::UnknownLocale { .. }) => {
                    eprintln!("sunset: {error}");
                    return Ok(ExitCode::from(2));
                }
                Err(error) => return Err(error.into()),
            }
        }
        Command::Export {
            format,
            since,
            until,
            output,
            reveal,
        } => {
            if let (Some(start), Some(end)) = (since, until)
                && start > end
            {
                eprintln!("sunset: --since {start} comes after --until {end}");
                return Ok(ExitCode::from(2));
            }
            let store = existing_store(&config.settings.server.database_url, "export from").await?;
            let mut out: Box<dyn std::io::Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    sunset::commands::export::create_output(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let rows = export::run(store.as_ref(), format, since, until, reveal, &mut out).await?;
            eprintln!("{rows} row(s) exported");
        }
        Command::Purge { older_than } => {
            let store = existing_store(&config.settings.server.database_url, "purge").await?;
            let scrubbed = store.purge(jiff::Timestamp::now() - older_than).await?;
            println!("{scrubbed} user(s) pseudonymized; opt-outs kept");
        }
        Command::Forget { user } => {
            let store = existing_store(&config.settings.server.database_url, "erase from").await?;
            let removed = store
                .forget(
                    &user,
                    config.secrets.signing_key.expose(),
                    jiff::Timestamp::now(),
                )
                .await?;
            println!("{removed} row(s) erased");
        }
        Command::Locales(LocalesCommand::Check) => {
            let dir = &config.settings.locales.dir;
            let sample = Campaign::from_config(&config).sample_args();
            let problems = sunset::i18n::check::check(dir, &sample);
            if !problems.is_empty() {
                let mut out = std::io::stdout().lock();
                for problem in &problems {
                    writeln!(out, "{problem}")?;
                }
                eprintln!("sunset: {} problem(s) in {}", problems.len(), dir.display());
                return Ok(ExitCode::from(1));
            }
            let count = sunset::i18n::read_locale_set(dir).map_or(0, |files| files.len());
            println!("{count} locales in {} checked: no problems", dir.display());
        }
        Command::Locales(LocalesCommand::Publish) => {
            let store = startup::open_store(&config.settings.server.database_url).await?;
            let dir = &config.settings.locales.dir;
            let sample = Campaign::from_config(&config).sample_args();
            match sunset::locale_sync::publish(store.as_ref(), dir, &sample).await? {
                Ok(version) => println!("published locale set {version} from {}", dir.display()),
                Err(problems) => {
                    for problem in &problems {
                        println!("{problem}");
                    }
                    eprintln!("sunset: not published: {} problem(s)", problems.len());
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Pause => {
            let store = startup::open_store(&config.settings.server.database_url).await?;
            store
                .pause_number(&PausedNumber::operator_pause(jiff::Timestamp::now()))
                .await?;
            println!(
                "sending paused on every box; webhooks are still taken and queued. `sunset resume` restarts it."
            );
        }
        Command::Resume => {
            let store: std::sync::Arc<dyn Store> =
                startup::open_store(&config.settings.server.database_url).await?;
            let resumed = store.resume_numbers(None).await?;
            println!("sending resumed ({resumed} pause(s) lifted)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The store at `url`, which must exist already: a command run in the
/// wrong folder must not report on a new, empty database.
async fn existing_store(url: &str, verb: &str) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    startup::open_existing_store(url).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "no database at {} to {verb}: run this where `sunset serve` runs, \
             or set server.database_url",
            startup::shown_url(url)
        )
    })
}

fn print_entry(entry: &sunset::store::LogEntry) {
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    println!(
        "message   {} ({}, from {})",
        entry.inbound_message_id, entry.inbound_type, entry.pseudonym
    );
    println!("decision  {}", entry.decision);
    println!("locale    {} ({})", entry.locale, entry.locale_source);
    println!("status    {}", or_none(&entry.status));
    if let (Some(phase), Some(days)) = (&entry.phase, entry.days_left) {
        println!("phase     {phase}, {days} day(s) left");
    }
    if let (Some(code), Some(title)) = (entry.error_code, &entry.error_title) {
        println!("error     {code} {title}");
    }
    if let Some(body) = &entry.body {
        println!("notice:\n{body}");
    } else if matches!(entry.status.as_deref(), Some("queued" | "sending")) {
        println!("notice    not sent yet: its text is stored when it is (is the sender paused?)");
    }
}
