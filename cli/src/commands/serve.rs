//! `cachewatch serve`: the HTTP door on this machine, over the history the other commands use.
//!
//! The same router as the API function ([`cachewatch_http::router`]): Slack's slash command and
//! buttons, the runbook and history pages, the search API, and an SNS subscription endpoint, so a
//! team without Lambda gets what a deployed stack gives. While it runs, what Slack refused earlier
//! is sent again every minute.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration as StdDuration;

use anyhow::{Context as _, anyhow};
use cachewatch_adapters::chat::Chat;
use cachewatch_adapters::files::read_runbooks;
use cachewatch_adapters::placed_facts::PlacedFacts;
use cachewatch_core::alerting::notify;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_http::listener::{self, ConnectionLimits};
use cachewatch_http::settings::{BASE_URL_VAR, LINK_SECRET_VAR, PUBLIC_PAGES_VAR, hosts_of};
use cachewatch_http::sns::HttpsFetcher;
use cachewatch_http::{Door, HttpSettings, router};
use chrono::Utc;

use super::notify::{configured_chat, notify_settings};
use super::{Context, Failure};
use crate::args::ServeArgs;

/// How often what is still to send (Slack was down, or rate-limited) is tried again.
const RESEND_EVERY: StdDuration = StdDuration::from_secs(60);

/// What the resending in the background works with: a second handle on the same history, and on
/// ElastiCache when the history is a stack's.
pub struct Resender<S> {
    /// The store.
    pub store: S,
    /// Facts for the alerts it sends.
    pub facts: Option<PlacedFacts>,
}

/// Serves the door until Ctrl-C or SIGTERM, then finishes the requests under way.
pub async fn run<S>(
    ctx: Context<S>,
    resender: Resender<S>,
    args: &ServeArgs,
    out: &mut dyn Write,
) -> Result<(), Failure>
where
    S: cachewatch_app::Store + 'static,
{
    // What the door refuses, and why, goes to standard error as the functions log it.
    cachewatch_adapters::logging::init();
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))
        .map_err(Failure::Input)?;
    let addr = listener.local_addr()?;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let settings = door_settings(addr, env, ctx.zone)?;
    let (chat, channel) = match configured_chat(&ctx).await? {
        Some((chat, channel)) => (Some(chat), channel),
        None => (None, None),
    };
    let mut notify = notify_settings(&ctx, channel)?;
    // Alerts link to this server's pages, with its signer; buttons work where Slack's requests
    // can be verified.
    notify.base_url.clone_from(&settings.base_url);
    notify.links.clone_from(&settings.links);
    notify.actions = settings.base_url.is_some() && settings.signing_secret.is_some();
    let runbooks =
        read_runbooks(ctx.runbook_dir.as_deref()).map_err(|e| Failure::Input(e.into()))?;
    let fetcher =
        HttpsFetcher::new().context("cannot set up the client that fetches SNS's certificates")?;

    describe(out, addr, &settings, chat.is_some())?;

    let resend = chat.clone().map(|chat| {
        let settings = notify::NotifySettings {
            ignore_backoff: false,
            ..notify.clone()
        };
        spawn_resender(&ctx, resender, chat, settings)
    });

    let door = Door {
        store: ctx.store,
        chat,
        facts: ctx.facts,
        sns_fetcher: fetcher,
        runbooks,
        config: ctx.config,
        notify,
        settings,
    };
    listener::serve(
        listener,
        router(door),
        ConnectionLimits::default(),
        stop_signal(),
    )
    .await
    .context("the server stopped")?;
    if let Some(task) = resend {
        task.abort();
    }
    writeln!(out, "stopped")?;
    Ok(())
}

/// Sends what is due every [`RESEND_EVERY`], beside the door, until aborted.
fn spawn_resender<S>(
    ctx: &Context<S>,
    resender: Resender<S>,
    chat: Chat,
    settings: notify::NotifySettings,
) -> tokio::task::JoinHandle<()>
where
    S: cachewatch_app::Store + 'static,
{
    let Resender { store, facts } = resender;
    // The templates were read already; reading them again cannot fail where that did not.
    let runbooks = read_runbooks(ctx.runbook_dir.as_deref());
    let config = ctx.config.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RESEND_EVERY);
        tick.tick().await;
        let Ok(runbooks) = runbooks else { return };
        loop {
            tick.tick().await;
            let ports = cachewatch_app::Ports::new(&store, Some(&chat), &facts, &runbooks);
            let rules = cachewatch_app::Rules {
                config: &config,
                settings: &settings,
                now: Utc::now(),
            };
            resend_due(ports, rules).await;
        }
    })
}

/// What the door checks, from the environment, with the defaults of a server on this machine:
/// on a loopback address the pages need no signed link unless a link secret is set, and links
/// point at the address served. A server on one address answers only the host names it is
/// reached by (that address, `localhost` on loopback, and the base URL's host), so a name
/// rebound to its address reaches nothing; one on every address (`0.0.0.0`) cannot know its
/// names, and its pages need signed links anyway.
fn door_settings(
    addr: SocketAddr,
    env: impl Fn(&str) -> Option<String>,
    zone: cachewatch_core::model::timefmt::Zone,
) -> Result<HttpSettings, Failure> {
    let loopback = addr.ip().is_loopback();
    let mut settings = HttpSettings::from_lookup(|name| match env(name) {
        Some(value) => Some(value),
        None if name == PUBLIC_PAGES_VAR && loopback && env(LINK_SECRET_VAR).is_none() => {
            Some("true".to_owned())
        }
        None if name == BASE_URL_VAR && !addr.ip().is_unspecified() => {
            Some(format!("http://{addr}"))
        }
        None => None,
    })
    .map_err(|e| {
        Failure::Input(anyhow!(e).context(if loopback {
            "cannot set up the door"
        } else {
            "cannot set up the door: it listens beyond this machine, so its pages need signed links"
        }))
    })?;
    settings.zone = zone;
    if !addr.ip().is_unspecified() {
        let port = addr.port();
        let mut hosts = vec![addr.to_string()];
        if loopback {
            hosts.push(format!("localhost:{port}"));
        }
        if let Some(base) = &settings.base_url {
            hosts.extend(hosts_of(base));
        }
        hosts.dedup();
        settings.allowed_hosts = hosts;
    }
    Ok(settings)
}

/// The lines a person starting the server needs: where it is, what is open, what is missing.
fn describe(
    out: &mut dyn Write,
    addr: SocketAddr,
    settings: &HttpSettings,
    slack: bool,
) -> Result<(), Failure> {
    writeln!(out, "cachewatch serve: listening on http://{addr}")?;
    let base = settings.base_url.as_deref().unwrap_or("(no base URL)");
    writeln!(out, "  history   {base}/events")?;
    writeln!(out, "  search    {base}/api/events?cluster=...")?;
    writeln!(out, "  runbooks  {base}/runbooks/ID")?;
    writeln!(
        out,
        "  slack     {base}/slack/commands, {base}/slack/interactions"
    )?;
    writeln!(out, "  sns       {base}/sns")?;
    if !settings.links_required {
        writeln!(
            out,
            "pages open without signed links (loopback; set {LINK_SECRET_VAR} to require them)"
        )?;
    }
    if settings.base_url.is_none() {
        writeln!(
            out,
            "{BASE_URL_VAR} is not set: alerts cannot link to this server's pages"
        )?;
    }
    if settings.signing_secret.is_none() {
        writeln!(
            out,
            "SLACK_SIGNING_SECRET is not set: Slack's commands and buttons are refused"
        )?;
    }
    if settings.topic_arns.is_empty() {
        writeln!(
            out,
            "CACHEWATCH_TOPIC_ARNS is not set: SNS notifications are refused"
        )?;
    }
    if !slack {
        writeln!(
            out,
            "Slack is not configured (SLACK_BOT_TOKEN and SLACK_CHANNEL, or SLACK_WEBHOOK_URL): events are stored, not posted"
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Sends what is due and the reminders due; a failure is logged and tried again at the next
/// tick.
async fn resend_due<S, C, F>(
    ports: cachewatch_app::Ports<'_, S, C, F>,
    rules: cachewatch_app::Rules<'_>,
) where
    S: cachewatch_app::Store,
    C: cachewatch_core::alerting::delivery::ChatSink,
    F: FactsSource,
{
    match cachewatch_app::send_pending(ports, rules).await {
        Ok(Some(sent)) => {
            if !sent.alerts.sent.is_empty() || !sent.alerts.failed.is_empty() {
                eprintln!("{}", super::notify::summary(&sent.alerts));
            }
            if let Some(line) = super::notify::reminders_summary(&sent.reminders) {
                eprintln!("{line}");
            }
        }
        Ok(None) => {}
        Err(e) => eprintln!("cachewatch serve: cannot send what is due: {e}"),
    }
}

/// Ctrl-C, or SIGTERM where there is one.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachewatch_core::model::timefmt::Zone;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn on_loopback_the_pages_are_open_and_links_point_at_the_server() {
        let s = door_settings("127.0.0.1:8080".parse().unwrap(), env(&[]), Zone::Utc).unwrap();
        assert!(!s.links_required);
        assert_eq!(s.base_url.as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn on_one_address_only_its_own_host_names_are_answered() {
        let s = door_settings(
            "127.0.0.1:8080".parse().unwrap(),
            env(&[(BASE_URL_VAR, "https://cachewatch.example.com")]),
            Zone::Utc,
        )
        .unwrap();
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "cachewatch.example.com",
            "CacheWatch.example.com:443",
        ] {
            assert!(s.accepts_host(Some(host)), "{host}");
        }
        for host in ["rebound.example:8080", "127.0.0.1:9090", "evil.example"] {
            assert!(!s.accepts_host(Some(host)), "{host}");
        }
        assert!(!s.accepts_host(None));
        let everywhere = door_settings(
            "0.0.0.0:8080".parse().unwrap(),
            env(&[(LINK_SECRET_VAR, "0123456789abcdef0123456789abcdef")]),
            Zone::Utc,
        )
        .unwrap();
        assert!(everywhere.accepts_host(Some("10.1.2.3:8080")));
    }

    #[test]
    fn a_link_secret_makes_loopback_pages_signed_too() {
        let s = door_settings(
            "127.0.0.1:8080".parse().unwrap(),
            env(&[(LINK_SECRET_VAR, "0123456789abcdef0123456789abcdef")]),
            Zone::Utc,
        )
        .unwrap();
        assert!(s.links_required);
        assert!(s.links.is_some());
    }

    #[test]
    fn beyond_loopback_the_pages_need_a_link_secret() {
        let e = door_settings("0.0.0.0:8080".parse().unwrap(), env(&[]), Zone::Utc)
            .expect_err("no link secret on 0.0.0.0 must be refused");
        let Failure::Input(e) = e else {
            panic!("a settings problem is an input error")
        };
        assert!(format!("{e:#}").contains(LINK_SECRET_VAR), "{e:#}");
        let s = door_settings(
            "0.0.0.0:8080".parse().unwrap(),
            env(&[
                (LINK_SECRET_VAR, "0123456789abcdef0123456789abcdef"),
                (BASE_URL_VAR, "https://cachewatch.example.com"),
            ]),
            Zone::Utc,
        )
        .unwrap();
        assert_eq!(
            s.base_url.as_deref(),
            Some("https://cachewatch.example.com")
        );
    }
}
