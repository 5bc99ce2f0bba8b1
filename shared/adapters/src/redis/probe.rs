//! The availability probe: a write and a read of one key on every tick, the replication role
//! polled beside it, until a deadline or a stop signal.

use std::future::Future;
use std::time::Duration;

use cachewatch_core::operations::probe::{
    ProbeRecorder, ProbeStatus, ProbeSummary, Role, Transition,
};
use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::connection::{Connection, Connector, RedisError, expect_ok, shorten};
use super::resp::Reply;
use super::target::RedisTarget;

/// How a probe runs.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// What to probe.
    pub target: RedisTarget,
    /// The time between tick starts.
    pub interval: Duration,
    /// How long one tick (connecting when needed, the write and the read) may take before it
    /// counts as a timeout.
    pub timeout: Duration,
    /// How long to probe; `None` runs until the stop signal.
    pub duration: Option<Duration>,
    /// How often the replication role is read on a working connection (it is also read on every
    /// new connection and after every failed tick).
    pub role_every: Duration,
}

impl ProbeSettings {
    /// Settings for `target`: a tick every 100 ms, each given 250 ms, the role read every second,
    /// until stopped.
    pub fn new(target: RedisTarget) -> ProbeSettings {
        ProbeSettings {
            target,
            interval: Duration::from_millis(100),
            timeout: Duration::from_millis(250),
            duration: None,
            role_every: Duration::from_secs(1),
        }
    }

    /// The time the first connection (and the key count at each end) may take: longer than a
    /// tick, since nothing is being measured yet.
    fn setup_timeout(&self) -> Duration {
        self.timeout.max(Duration::from_secs(5))
    }

    /// How long the probe key outlives its last write, so a probe killed mid-run leaves nothing
    /// behind for long.
    fn key_ttl(&self) -> Duration {
        (self.interval * 10).max(Duration::from_secs(30))
    }
}

/// Why a probe could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// TLS could not be set up (no trusted certificates).
    #[error("cannot set up TLS for {target}")]
    Tls {
        /// The target, without credentials.
        target: String,
        /// Why.
        #[source]
        source: RedisError,
    },
    /// The first connection failed: nothing was measured (a wrong address, port, password or
    /// TLS setting is the usual reason).
    #[error("cannot start probing {target}")]
    Start {
        /// The target, without credentials.
        target: String,
        /// Why.
        #[source]
        source: RedisError,
    },
}

/// Probes `settings.target` until `settings.duration` has passed or `stop` completes, and answers
/// what it measured. `on_update` is called after every tick and role reading with where the probe
/// stands, and the transition it brought if any (a gap starting or ending, a role change).
///
/// The probe first connects once and reads `DBSIZE` and the role; if that connection fails, it
/// stops there with [`ProbeError::Start`]. After that, every failure is a measurement: the probe
/// reconnects on the next tick, resolving the host name again. A `READONLY` reply drops the
/// connection too, as a client following an endpoint through a failover would. At the end the
/// probe key is deleted and `DBSIZE` read again (`keys_after` is `None` if the server cannot be
/// reached then).
///
/// Stopping (by `stop`) abandons the tick under way; the summary holds the ticks finished.
pub async fn probe(
    settings: &ProbeSettings,
    stop: impl Future<Output = ()>,
    mut on_update: impl FnMut(&ProbeStatus, Option<&Transition>),
) -> Result<ProbeSummary, ProbeError> {
    let target = settings.target.display_url();
    let connector = Connector::new(settings.target.clone()).map_err(|source| ProbeError::Tls {
        target: target.clone(),
        source,
    })?;
    let mut first = connector
        .connect(settings.setup_timeout())
        .await
        .map_err(|source| ProbeError::Start {
            target: target.clone(),
            source,
        })?;
    let (keys_before, first) = match bounded(settings.setup_timeout(), first.dbsize()).await {
        Ok(keys) => (Some(keys), Some(first)),
        Err(error) => {
            tracing::debug!(error = %error.full_message(), "DBSIZE failed");
            (None, Some(first).filter(|_| !error.breaks_connection()))
        }
    };

    let clock = Clock::start();
    let mut recorder = ProbeRecorder::new(
        target,
        clock.started,
        chrono::Duration::from_std(settings.interval).unwrap_or(chrono::Duration::MAX),
    );
    let run = format!("{:x}", clock.started.timestamp_micros());
    let key = format!("cachewatch:probe:{run}");
    let ttl_ms = settings.key_ttl().as_millis().to_string();
    let deadline = settings.duration.map(|d| clock.origin + d);

    let mut connection = first;
    let mut role_due = clock.origin;
    read_role(
        settings,
        &mut connection,
        &clock,
        &mut recorder,
        &mut on_update,
    )
    .await;
    role_due += settings.role_every;

    tokio::pin!(stop);
    let mut next = clock.origin;
    let mut tick_number: u64 = 0;
    loop {
        if let Some(deadline) = deadline
            && next >= deadline
        {
            // The run lasts the duration asked for, not just until its last tick.
            tokio::select! {
                biased;
                () = &mut stop => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
            break;
        }
        tokio::select! {
            biased;
            () = &mut stop => break,
            () = tokio::time::sleep_until(next) => {}
        }
        tick_number += 1;
        let at = clock.now();
        let value = format!("{run}:{tick_number}");
        let had_connection = connection.is_some();
        let outcome = tokio::select! {
            biased;
            () = &mut stop => break,
            outcome = bounded(
                settings.timeout,
                tick(&connector, &mut connection, settings.timeout, &key, &value, &ttl_ms),
            ) => outcome,
        };
        let failed = outcome.is_err();
        let error = outcome.as_ref().err();
        if error.is_some_and(RedisError::breaks_connection) {
            connection = None;
        }
        let dropped = error.is_some_and(RedisError::drops_connection);
        let transition = recorder.tick(
            at,
            outcome.map_err(|error| (error.kind(), error.full_message())),
        );
        on_update(&recorder.status(), transition.as_ref());

        let fresh = !had_connection && connection.is_some();
        // After a failure, the role tells why (a replica now); a broken connection is gone.
        if connection.is_some() && (fresh || failed || Instant::now() >= role_due) {
            read_role(
                settings,
                &mut connection,
                &clock,
                &mut recorder,
                &mut on_update,
            )
            .await;
            role_due = Instant::now() + settings.role_every;
        }
        if dropped {
            connection = None;
        }
        next = (next + settings.interval).max(Instant::now());
    }
    let ended = clock.now();

    let keys_after = bounded(settings.setup_timeout(), async {
        let mut connection = match connection.take() {
            Some(connection) => connection,
            None => connector.connect(settings.setup_timeout()).await?,
        };
        // A replica refuses the DEL (and never held the key): count its keys all the same.
        if let Err(error) = connection.command(&[b"DEL", key.as_bytes()]).await
            && error.breaks_connection()
        {
            return Err(error);
        }
        connection.dbsize().await
    })
    .await
    .ok();
    Ok(recorder.finish(ended, keys_before, keys_after))
}

/// One tick: connect when needed, `SET key value PX ttl`, `GET key`, and check the value.
async fn tick(
    connector: &Connector,
    connection: &mut Option<Connection>,
    timeout: Duration,
    key: &str,
    value: &str,
    ttl_ms: &str,
) -> Result<(), RedisError> {
    let connection = match connection {
        Some(connection) => connection,
        None => connection.insert(connector.connect(timeout).await?),
    };
    let reply = connection
        .command(&[
            b"SET",
            key.as_bytes(),
            value.as_bytes(),
            b"PX",
            ttl_ms.as_bytes(),
        ])
        .await?;
    expect_ok("SET", reply)?;
    match connection.command(&[b"GET", key.as_bytes()]).await? {
        Reply::Bulk(Some(got)) if got == value.as_bytes() => Ok(()),
        other => Err(RedisError::WrongValue {
            got: shorten(&other.to_string()),
        }),
    }
}

/// Reads the role on the open connection; a connection that fails to answer is dropped.
async fn read_role(
    settings: &ProbeSettings,
    connection: &mut Option<Connection>,
    clock: &Clock,
    recorder: &mut ProbeRecorder,
    on_update: &mut impl FnMut(&ProbeStatus, Option<&Transition>),
) {
    let Some(open) = connection.as_mut() else {
        return;
    };
    match bounded(settings.timeout, open.info_replication()).await {
        Ok(info) => {
            if let Some(role) = Role::from_info(&info)
                && let Some(change) = recorder.role(clock.now(), role)
            {
                on_update(&recorder.status(), Some(&Transition::Role(change)));
            }
        }
        Err(error) => {
            tracing::debug!(error = %error.full_message(), "INFO replication failed");
            if error.drops_connection() {
                *connection = None;
            }
        }
    }
}

/// `work`, or a timeout error once `limit` has passed.
async fn bounded<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, RedisError>>,
) -> Result<T, RedisError> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or(Err(RedisError::Timeout(limit)))
}

/// Wall-clock times that advance with the monotonic clock, so a clock step during the probe does
/// not bend the measured gaps.
struct Clock {
    started: DateTime<Utc>,
    origin: Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            started: Utc::now(),
            origin: Instant::now(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.origin.elapsed()).unwrap_or_default();
        self.started + elapsed
    }
}
