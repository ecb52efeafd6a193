//! Builds the running service: store, localizer, Graph client, sender, routes.

use crate::campaign::Campaign;
use crate::config::Config;
use crate::domain::decision::ReplyPolicy;
use crate::graph_api::GraphClient;
use crate::http::{self, AppState, MAX_WEBHOOK_BYTES};
use crate::i18n::{Catalog, LiveCatalog, NoticeArgs};
use crate::intake::{Intake, IntakeCounters};
use crate::locale_sync;
use crate::metrics::Metrics;
use crate::outbox::{Delivery, Outbox, Pace};
use crate::store::{PgStore, SqliteStore, Store};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use std::net::TcpListener;
use std::str::FromStr;
use std::sync::Arc;

/// How long the sender may take to finish its round at shutdown: one HTTP
/// call's timeout plus margin.
const SENDER_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// How often the stats rollups take in the changes written since the last
/// fold (PostgreSQL; SQLite's triggers keep them current).
const ROLLUP_FOLD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// `database_url` as it may be shown in errors and output: its password,
/// if it has one, masked.
pub fn shown_url(database_url: &str) -> String {
    match reqwest::Url::parse(database_url) {
        Ok(mut url) if url.password().is_some() => {
            url.set_password(Some("****")).ok();
            url.to_string()
        }
        _ => database_url.to_owned(),
    }
}

fn cannot_open(database_url: &str) -> String {
    format!(
        "server.database_url: cannot open `{}`",
        shown_url(database_url)
    )
}

/// Opens the store that `database_url` names, migrated.
pub async fn open_store(database_url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let scheme = database_url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => {
            let store = SqliteStore::connect(database_url)
                .await
                .with_context(|| cannot_open(database_url))?;
            Ok(Arc::new(store))
        }
        "postgres" | "postgresql" => {
            let store = PgStore::connect(database_url)
                .await
                .with_context(|| cannot_open(database_url))?;
            Ok(Arc::new(store))
        }
        _ => {
            bail!(
                "server.database_url: `{}` must start with sqlite:// or postgres://",
                shown_url(database_url)
            )
        }
    }
}

/// The store `database_url` names if it already exists, for commands that
/// read or erase: a SQLite file that is not there is not created, and a
/// PostgreSQL database that `sunset` never migrated is not migrated.
pub async fn open_existing_store(database_url: &str) -> anyhow::Result<Option<Arc<dyn Store>>> {
    if database_url.starts_with("sqlite:") {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)
            .with_context(|| format!("server.database_url: cannot read `{database_url}`"))?;
        if !options.get_filename().is_file() {
            return Ok(None);
        }
    } else if database_url.starts_with("postgres") {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(database_url)
            .await
            .with_context(|| cannot_open(database_url))?;
        let migrated: bool =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&mut connection)
                .await
                .with_context(|| cannot_open(database_url))?;
        connection.close().await.ok();
        if !migrated {
            return Ok(None);
        }
    }
    open_store(database_url).await.map(Some)
}

/// Loads the locale files, refusing a set with any problem found when
/// rendered with `sample` (the campaign's [`Campaign::sample_args`]).
pub fn load_catalog(config: &Config, sample: &NoticeArgs) -> anyhow::Result<Catalog> {
    let dir = &config.settings.locales.dir;
    Catalog::load(dir, &config.settings.campaign.default_locale, sample).map_err(|problems| {
        if let [problem] = problems.as_slice() {
            // One line that names it: a bad `campaign.default_locale`, say.
            return anyhow::anyhow!("{problem}");
        }
        let lines = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        anyhow::anyhow!(
            "locales.dir `{}`: the locale files have problems:\n{lines}",
            dir.display()
        )
    })
}

/// The set a box starts with: its folder, or, when the folder fails the
/// check, the newest published set, with the folder's problems shown on
/// `/healthz` as a refused edit. A box that has neither does not start:
/// a broken folder never reaches a user, and a restart is no outage while
/// a good set is published.
async fn starting_catalog(
    config: &Config,
    store: &dyn Store,
    sample: NoticeArgs,
) -> anyhow::Result<LiveCatalog> {
    let default_locale = &config.settings.campaign.default_locale;
    let live = |catalog| {
        LiveCatalog::new(
            catalog,
            config.settings.locales.dir.clone(),
            default_locale.clone(),
            sample.clone(),
        )
    };
    let folder_error = match load_catalog(config, &sample) {
        Ok(catalog) => return Ok(live(catalog)),
        Err(error) => error,
    };
    let Some(published) = locale_sync::published_catalog(store, default_locale, &sample).await?
    else {
        return Err(folder_error);
    };
    tracing::error!(error = %folder_error, serving = %published.localizer.version(), "the locale folder is refused; serving the newest published set");
    let live = live(published);
    live.reload();
    Ok(live)
}

/// Locks `<file>.serve-lock` for as long as the returned handle lives:
/// a second `serve` on the file would take back the notices this one is
/// sending and send them again.
fn hold_single_box_file(file: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut path = file.as_os_str().to_owned();
    path.push(".serve-lock");
    let lock = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another `sunset serve` is running on {}: SQLite is for one box (PostgreSQL for many)",
            file.display()
        ),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// A built service, bound to its port, not yet running.
pub struct Application {
    /// The lock on the SQLite file, held while the service runs.
    _serving: Option<std::fs::File>,
    port: u16,
    server: Server,
    outbox: Arc<Outbox>,
    store: Arc<dyn Store>,
    catalog: Arc<LiveCatalog>,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let store = open_store(&config.settings.server.database_url).await?;
        // Bound first: a second start on a port in use stops here, before
        // it takes back notices a running process is sending.
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("server.bind: cannot listen on {}", config.bind))?;
        let serving = store
            .single_box_file()
            .map(hold_single_box_file)
            .transpose()?;
        let released = store.release_stale_leases().await?;
        if released > 0 {
            tracing::warn!(
                released,
                "notices were being sent when the last process stopped; they are due again (one may go out twice)"
            );
        }
        // The phone metadata loads lazily on first use (tens of ms, more in
        // debug builds): pay it now, not on the first webhook.
        let _ = crate::domain::ids::WaId::parse("14155550100").and_then(|id| id.country());
        let campaign = Arc::new(Campaign::from_config(config));
        let sample = campaign.sample_args();
        let catalog = Arc::new(starting_catalog(config, store.as_ref(), sample).await?);
        let whatsapp = &config.settings.whatsapp;
        let delivery = match &config.secrets.access_token {
            Some(token) => Delivery::Live {
                client: GraphClient::new(
                    config.graph_api_base.clone(),
                    &whatsapp.api_version,
                    token.clone(),
                )
                .context("cannot build the Graph API client")?,
                test_recipients: whatsapp.test_recipients.clone(),
            },
            None => Delivery::DryRun,
        };
        let metrics = Arc::new(Metrics::default());
        let outbox = Arc::new(Outbox::new(
            Arc::clone(&store),
            delivery,
            Arc::clone(&catalog),
            Arc::clone(&campaign),
            Pace {
                messages_per_second: whatsapp.messages_per_second,
                sends_in_flight: whatsapp.sends_in_flight,
                pair_spacing: config.pair_spacing,
            },
            Arc::clone(&metrics),
        ));
        let state = web::Data::new(AppState {
            store: Arc::clone(&store),
            intake: Intake {
                store: Arc::clone(&store),
                policy: Arc::new(ReplyPolicy {
                    min_reply_interval: config.min_reply_interval,
                    answered_numbers: whatsapp.phone_number_ids.clone(),
                }),
                catalog: Arc::clone(&catalog),
                campaign: Arc::clone(&campaign),
                metrics: Arc::clone(&metrics),
                signing_key: config.secrets.signing_key.expose().to_owned(),
                sender_wake: outbox.waker(),
                counters: IntakeCounters::default(),
            },
            campaign,
            catalog: Arc::clone(&catalog),
            app_secret: config.secrets.app_secret.clone(),
            verify_token: config.secrets.verify_token.clone(),
            admin_token: config.secrets.admin_token.clone(),
            analyst_token: config.secrets.analyst_token.clone(),
            signing_key: config.secrets.signing_key.clone(),
            live: config.secrets.is_live(),
            metrics,
        });
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(MAX_WEBHOOK_BYTES))
                .configure(http::routes)
        })
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Self {
            _serving: serving,
            port,
            server,
            outbox,
            store,
            catalog,
        })
    }

    /// The port actually bound (the configured one, or a free one for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn outbox(&self) -> Arc<Outbox> {
        Arc::clone(&self.outbox)
    }

    /// The locale set in service, reloaded when its files change.
    pub fn catalog(&self) -> Arc<LiveCatalog> {
        Arc::clone(&self.catalog)
    }

    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Stops the server gracefully: no new connections, in-flight finished.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGINT, SIGTERM or the handle), with the sender
    /// running beside the server when `with_sender` is set.
    ///
    /// On SIGTERM the server stops taking connections and finishes the
    /// requests in flight; the sender then finishes its round, so no send is
    /// cut between the Graph API's answer and our record of it.
    pub async fn run_until_stopped(self, with_sender: bool) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let sender = with_sender.then(|| tokio::spawn(Arc::clone(&self.outbox).run(stopped)));
        let seen = locale_sync::install_published(&self.catalog, self.store.as_ref(), None).await;
        let watcher = tokio::spawn(locale_sync::watch(
            Arc::clone(&self.catalog),
            Arc::clone(&self.store),
            seen,
        ));
        let folder = tokio::spawn(fold_rollups_every(
            Arc::clone(&self.store),
            ROLLUP_FOLD_INTERVAL,
        ));
        let result = self.server.await;
        watcher.abort();
        folder.abort();
        let _ = stop.send(true);
        if let Some(sender) = sender
            && tokio::time::timeout(SENDER_GRACE, sender).await.is_err()
        {
            tracing::warn!(
                "the sender did not finish its calls in time; their notices go back to the queue when their lease runs out"
            );
        }
        tracing::info!("stopped");
        result
    }
}

/// Keeps the pending rollup changes few, however rarely stats are read.
async fn fold_rollups_every(store: Arc<dyn Store>, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    loop {
        ticks.tick().await;
        if let Err(error) = store.fold_rollups().await {
            tracing::warn!(%error, "cannot fold the stats rollups; the next read of the stats will");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn a_database_password_is_never_shown() {
        assert_eq!(
            shown_url("postgres://sunset:hunter2@db.internal:5432/sunset"),
            "postgres://sunset:****@db.internal:5432/sunset"
        );
        assert_eq!(
            shown_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(shown_url("sqlite://sunset.db"), "sqlite://sunset.db");
    }
}
