//! Settings: `sunset.toml`, `SUNSET_<SECTION>__<KEY>` overrides and secrets
//! from the environment, parsed once into checked values.

use crate::domain::countdown::Deadline;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp, tz::TimeZone};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The six secrets, read from the environment only.
pub const SECRET_NAMES: [&str; 6] = [
    "app_secret",
    "verify_token",
    "access_token",
    "admin_token",
    "analyst_token",
    "signing_key",
];

/// What goes wrong while loading settings: one line naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error("{key}: {problem}")]
    Setting { key: &'static str, problem: String },
    #[error(
        "`{0}` is a secret and was found in the settings file; remove it and set SUNSET_{upper} in the environment",
        upper = .0.to_ascii_uppercase()
    )]
    SecretInFile(String),
    #[error("SUNSET_{0} must be set when SUNSET_ACCESS_TOKEN is (live mode)")]
    MissingSecret(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub bind: String,
    pub public_url: String,
    pub database_url: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            database_url: "sqlite://sunset.db".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppSettings {
    pub graph_api_base: String,
    pub api_version: String,
    pub phone_number_ids: Vec<String>,
    pub messages_per_second: u32,
    /// Graph API calls one box has open at once: a crash can send at most
    /// this many notices twice.
    pub sends_in_flight: u32,
    /// WhatsApp's pair rate limit: the least time between two notices to
    /// one user (131056 when shorter).
    pub pair_spacing: String,
    pub test_recipients: Vec<String>,
}

impl Default for WhatsAppSettings {
    fn default() -> Self {
        Self {
            graph_api_base: "https://graph.facebook.com".into(),
            api_version: "v27.0".into(),
            phone_number_ids: vec![],
            messages_per_second: 80,
            sends_in_flight: 16,
            pair_spacing: "6s".into(),
            test_recipients: vec![],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignSettings {
    pub service: String,
    pub deadline: Option<String>,
    pub timezone: String,
    pub default_locale: String,
    pub min_reply_interval: String,
    pub vars: BTreeMap<String, String>,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            service: "Acme Assistant".into(),
            deadline: None,
            timezone: "UTC".into(),
            default_locale: "en".into(),
            min_reply_interval: "1h".into(),
            vars: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSettings {
    pub ios: String,
    pub android: String,
    pub web: String,
    pub link_account: String,
}

impl Default for LinkSettings {
    fn default() -> Self {
        Self {
            ios: "https://apps.apple.com/app/id000000000".into(),
            android: "https://play.google.com/store/apps/details?id=com.example".into(),
            web: "https://example.com/app".into(),
            link_account: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocaleSettings {
    /// The folder of `<tag>/sunset.ftl` files.
    pub dir: PathBuf,
}

impl Default for LocaleSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("locales"),
        }
    }
}

/// The settings tree as written in `sunset.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub whatsapp: WhatsAppSettings,
    pub campaign: CampaignSettings,
    pub links: LinkSettings,
    pub locales: LocaleSettings,
}

/// A secret value: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The secrets in force. Dry-run fills the signature secret and the
/// signing key with demo values so that a fresh clone works.
#[derive(Clone, Debug)]
pub struct Secrets {
    pub app_secret: Secret,
    pub verify_token: Option<Secret>,
    pub access_token: Option<Secret>,
    pub admin_token: Option<Secret>,
    pub analyst_token: Option<Secret>,
    pub signing_key: Secret,
}

pub const DEMO_APP_SECRET: &str = "dev-secret";
const DEMO_SIGNING_KEY: &str = "sunset-demo-signing-key-do-not-use-in-production";

impl Secrets {
    /// Reads the secrets through `lookup` (the process environment in
    /// production). With an access token every secret is required.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &str| {
            lookup(&format!("SUNSET_{}", name.to_ascii_uppercase()))
                .filter(|v| !v.is_empty())
                .map(Secret)
        };
        let access_token = read("access_token");
        if access_token.is_some()
            && let Some(missing) = SECRET_NAMES.iter().find(|name| read(name).is_none())
        {
            return Err(ConfigError::MissingSecret(missing.to_ascii_uppercase()));
        }
        if let (Some(admin), Some(analyst)) = (read("admin_token"), read("analyst_token"))
            && admin.expose() == analyst.expose()
        {
            // The analyst would be the admin, clear ids and all.
            return Err(ConfigError::Invalid(
                "SUNSET_ANALYST_TOKEN equals SUNSET_ADMIN_TOKEN: give the analysts a token of their own".into(),
            ));
        }
        Ok(Self {
            app_secret: read("app_secret").unwrap_or_else(|| Secret::new(DEMO_APP_SECRET)),
            verify_token: read("verify_token"),
            access_token,
            admin_token: read("admin_token"),
            analyst_token: read("analyst_token"),
            signing_key: read("signing_key").unwrap_or_else(|| Secret::new(DEMO_SIGNING_KEY)),
        })
    }

    pub fn is_live(&self) -> bool {
        self.access_token.is_some()
    }
}

/// `v` and a dotted version number, as the Graph API's paths name them.
fn is_api_version(text: &str) -> bool {
    text.strip_prefix('v').is_some_and(|number| {
        number
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Settings checked and turned into the types the service runs on.
#[derive(Clone, Debug)]
pub struct Config {
    pub settings: Settings,
    pub bind: SocketAddr,
    pub public_url: Url,
    pub graph_api_base: Url,
    pub deadline: Deadline,
    pub min_reply_interval: SignedDuration,
    pub pair_spacing: SignedDuration,
    pub secrets: Secrets,
}

impl Config {
    /// Loads `path` (when it exists), applies `SUNSET_*` overrides from the
    /// process environment and reads the secrets.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Self::load_with(path, &env)
    }

    /// As [`Config::load`], with the environment given as a map (for tests).
    pub fn load_with(path: &Path, env: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if path.exists() {
            reject_secrets_in_file(path)?;
            // `file_exact`: `Toml::file` would look in the parent folders
            // too, and a command run in a subfolder would take their file.
            figment = figment.merge(Toml::file_exact(path));
        }
        for (key, value) in env {
            if let Some(setting) = key.strip_prefix("SUNSET_").filter(|k| k.contains("__")) {
                let dotted = setting.to_ascii_lowercase().replace("__", ".");
                // A list or a table is read as one; anything else stays
                // text, and becomes a number or a boolean only where the
                // setting is one: a phone number in `[campaign.vars]` stays
                // text.
                let parsed: figment::value::Value = value
                    .parse()
                    .map_err(|_| ConfigError::Invalid(format!("{key}: cannot be read")))?;
                let value = match parsed {
                    figment::value::Value::Array(..) | figment::value::Value::Dict(..) => parsed,
                    _ => figment::value::Value::from(value.clone()),
                };
                figment = figment.merge(Serialized::default(&dotted, value));
            }
        }
        let settings: Settings = figment
            .extract_lossy()
            .map_err(|e| ConfigError::Invalid(describe(&e)))?;
        let secrets = Secrets::from_lookup(|name| env.get(name).cloned())?;
        Self::from_settings(settings, secrets)
    }

    /// Checks every setting and builds the running configuration.
    pub fn from_settings(mut settings: Settings, secrets: Secrets) -> Result<Self, ConfigError> {
        let setting = |key: &'static str, problem: String| ConfigError::Setting { key, problem };
        let bind = settings.server.bind.parse().map_err(|_| {
            setting(
                "server.bind",
                format!(
                    "`{}` is not an address like 127.0.0.1:8080",
                    settings.server.bind
                ),
            )
        })?;
        let public_url =
            parse_url(&settings.server.public_url).map_err(|p| setting("server.public_url", p))?;
        let graph_api_base = parse_url(&settings.whatsapp.graph_api_base)
            .map_err(|p| setting("whatsapp.graph_api_base", p))?;
        let raw_deadline = settings.campaign.deadline.as_deref().ok_or_else(|| {
            setting(
                "campaign.deadline",
                "missing: the instant the service ends, e.g. \"2027-06-30T23:59:59Z\"".into(),
            )
        })?;
        let instant: Timestamp = raw_deadline.parse().map_err(|_| {
            setting(
                "campaign.deadline",
                format!("`{raw_deadline}` is not an RFC 3339 instant like 2027-06-30T23:59:59Z"),
            )
        })?;
        let time_zone = TimeZone::get(&settings.campaign.timezone).map_err(|_| {
            setting(
                "campaign.timezone",
                format!("`{}` is not an IANA time zone", settings.campaign.timezone),
            )
        })?;
        let min_reply_interval = parse_duration(&settings.campaign.min_reply_interval)
            .map_err(|p| setting("campaign.min_reply_interval", p))?;
        let pair_spacing = parse_duration(&settings.whatsapp.pair_spacing)
            .map_err(|p| setting("whatsapp.pair_spacing", p))?;
        if settings.whatsapp.messages_per_second == 0 {
            return Err(setting(
                "whatsapp.messages_per_second",
                "must be at least 1".into(),
            ));
        }
        if settings.whatsapp.sends_in_flight == 0 {
            return Err(setting(
                "whatsapp.sends_in_flight",
                "must be at least 1".into(),
            ));
        }
        for (key, value) in [
            ("links.ios", &settings.links.ios),
            ("links.android", &settings.links.android),
            ("links.web", &settings.links.web),
        ] {
            parse_url(value).map_err(|p| setting(key, p))?;
        }
        if !settings.links.link_account.is_empty() {
            if !settings.links.link_account.contains("{token}") {
                return Err(setting(
                    "links.link_account",
                    "has no `{token}`: the linking page would never learn who is linking \
                     (\"\" turns linking off)"
                        .into(),
                ));
            }
            parse_url(&settings.links.link_account.replace("{token}", "t"))
                .map_err(|p| setting("links.link_account", p))?;
        }
        if settings.campaign.service.trim().is_empty() {
            return Err(setting(
                "campaign.service",
                "is empty: every notice names the service".into(),
            ));
        }
        if !is_api_version(&settings.whatsapp.api_version) {
            return Err(setting(
                "whatsapp.api_version",
                format!(
                    "`{}` is not a Graph API version like v27.0",
                    settings.whatsapp.api_version
                ),
            ));
        }
        // Matched against stored ids: "+1 555 860 0001" is 15558600001.
        for recipient in &mut settings.whatsapp.test_recipients {
            *recipient = crate::domain::ids::user_key(recipient).ok_or_else(|| {
                setting(
                    "whatsapp.test_recipients",
                    format!("`{recipient}` is neither a phone number nor a BSUID"),
                )
            })?;
        }
        Ok(Self {
            bind,
            public_url,
            graph_api_base,
            deadline: Deadline { instant, time_zone },
            min_reply_interval,
            pair_spacing,
            secrets,
            settings,
        })
    }

    /// Warnings an operator should read at start-up.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = vec![];
        if !self.secrets.is_live() {
            warnings.push("dry-run: SUNSET_ACCESS_TOKEN is not set, notices are logged with status dry_run and never sent".into());
            if self.secrets.app_secret.expose() == DEMO_APP_SECRET {
                warnings.push("dry-run: webhook signatures are checked with the demo app secret from the README; set SUNSET_APP_SECRET".into());
            }
            if self.secrets.signing_key.expose() == DEMO_SIGNING_KEY {
                warnings.push("dry-run: link tokens, smart-link codes and pseudonyms are signed with the demo signing key; set SUNSET_SIGNING_KEY".into());
            }
        }
        if self.settings.whatsapp.phone_number_ids.is_empty() {
            warnings.push("whatsapp.phone_number_ids is empty: messages to every business number are answered".into());
        }
        if self.secrets.is_live() && self.public_url.scheme() != "https" {
            warnings.push(format!(
                "server.public_url `{}` is not https: links sent to users should use https",
                self.public_url
            ));
        }
        warnings
    }
}

fn reject_secrets_in_file(path: &Path) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ConfigError::Invalid(format!("{}: {}", path.display(), one_line(&e)))
    })?;
    // At any depth: a secret under [campaign.vars] would even be sent.
    fn find_secret(table: &toml::Table) -> Option<String> {
        table.iter().find_map(|(key, value)| {
            if SECRET_NAMES.contains(&key.as_str()) {
                Some(key.clone())
            } else {
                value.as_table().and_then(find_secret)
            }
        })
    }
    match find_secret(&table) {
        Some(secret) => Err(ConfigError::SecretInFile(secret)),
        None => Ok(()),
    }
}

fn parse_url(raw: &str) -> Result<Url, String> {
    match Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
        _ => Err(format!("`{raw}` is not an http(s) URL")),
    }
}

/// Durations as people write them: "1h", "90d", "0s", "1h 30m".
pub fn parse_duration(raw: &str) -> Result<SignedDuration, String> {
    let problem = || format!("`{raw}` is not a duration like \"1h\", \"30m\" or \"90d\"");
    let span: Span = raw.trim().parse().map_err(|_| problem())?;
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| problem())?;
    if duration.is_negative() {
        return Err(problem());
    }
    Ok(duration)
}

/// A settings error as `key: problem (where)`, naming the file or the
/// `SUNSET_*` variable the bad value came from.
fn describe(error: &figment::Error) -> String {
    let key = error.path.join(".");
    let origin = match error.metadata.as_ref().and_then(|m| m.source.as_ref()) {
        Some(figment::Source::File(path)) => format!(" in {}", path.display()),
        _ if key.is_empty() => String::new(),
        _ => format!(" in SUNSET_{}", key.to_ascii_uppercase().replace('.', "__")),
    };
    format!("{key}: {}{origin}", one_line(&error.kind))
}

fn one_line(error: &impl fmt::Display) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
