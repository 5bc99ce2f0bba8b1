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
    let (connector, first, keys_before) = start(settings).await?;
    let mut run = Run::new(settings, connector, first);
    run.read_role(&mut on_update).await;
    let deadline = settings.duration.map(|d| run.clock.origin + d);
    tokio::pin!(stop);
    let mut next = run.clock.origin;
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
        let attempt = tokio::select! {
            biased;
            () = &mut stop => break,
            attempt = run.attempt() => attempt,
        };
        run.record(attempt, &mut on_update).await;
        next = (next + settings.interval).max(Instant::now());
    }
    Ok(run.finish(keys_before).await)
}

/// The first connection and the key count before the run; a connection `DBSIZE` broke is not
/// kept.
async fn start(
    settings: &ProbeSettings,
) -> Result<(Connector, Option<Connection>, Option<u64>), ProbeError> {
    let target = settings.target.display_url();
    let connector = Connector::new(settings.target.clone()).map_err(|source| ProbeError::Tls {
        target: target.clone(),
        source,
    })?;
    let mut first = connector
        .connect(settings.setup_timeout())
        .await
        .map_err(|source| ProbeError::Start { target, source })?;
    Ok(
        match bounded(settings.setup_timeout(), first.dbsize()).await {
            Ok(keys) => (connector, Some(first), Some(keys)),
            Err(error) => {
                tracing::debug!(error = %error.full_message(), "DBSIZE failed");
                let kept = Some(first).filter(|_| !error.breaks_connection());
                (connector, kept, None)
            }
        },
    )
}

/// One tick's attempt: when it started, whether a connection was open before it, and how it
/// went.
struct Attempt {
    at: DateTime<Utc>,
    had_connection: bool,
    outcome: Result<(), RedisError>,
}

/// A probe under way.
struct Run<'a> {
    settings: &'a ProbeSettings,
    connector: Connector,
    connection: Option<Connection>,
    clock: Clock,
    recorder: ProbeRecorder,
    /// The run's id: its start in hex microseconds, in the key and every value written.
    id: String,
    key: String,
    ttl_ms: String,
    ticks: u64,
    role_due: Instant,
}

impl<'a> Run<'a> {
    fn new(settings: &'a ProbeSettings, connector: Connector, first: Option<Connection>) -> Self {
        let clock = Clock::start();
        let recorder = ProbeRecorder::new(
            settings.target.display_url(),
            clock.started,
            chrono::Duration::from_std(settings.interval).unwrap_or(chrono::Duration::MAX),
        );
        let id = format!("{:x}", clock.started.timestamp_micros());
        Run {
            settings,
            connector,
            connection: first,
            key: format!("cachewatch:probe:{id}"),
            ttl_ms: settings.key_ttl().as_millis().to_string(),
            role_due: clock.origin,
            id,
            clock,
            recorder,
            ticks: 0,
        }
    }

    /// Reads the role and schedules the next reading.
    async fn read_role(&mut self, on_update: &mut impl FnMut(&ProbeStatus, Option<&Transition>)) {
        read_role(
            self.settings,
            &mut self.connection,
            &self.clock,
            &mut self.recorder,
            on_update,
        )
        .await;
        self.role_due = Instant::now() + self.settings.role_every;
    }

    /// The next tick's write and read, bounded by the tick's timeout.
    async fn attempt(&mut self) -> Attempt {
        self.ticks += 1;
        let at = self.clock.now();
        let value = format!("{}:{}", self.id, self.ticks);
        let had_connection = self.connection.is_some();
        let work = tick(
            &self.connector,
            &mut self.connection,
            self.settings.timeout,
            &self.key,
            &value,
            &self.ttl_ms,
        );
        let outcome = bounded(self.settings.timeout, work).await;
        Attempt {
            at,
            had_connection,
            outcome,
        }
    }

    /// Records a tick; after a new connection, a failure or when due, reads the role too.
    async fn record(
        &mut self,
        attempt: Attempt,
        on_update: &mut impl FnMut(&ProbeStatus, Option<&Transition>),
    ) {
        let error = attempt.outcome.as_ref().err();
        let failed = error.is_some();
        if error.is_some_and(RedisError::breaks_connection) {
            self.connection = None;
        }
        let dropped = error.is_some_and(RedisError::drops_connection);
        let outcome = attempt
            .outcome
            .map_err(|error| (error.kind(), error.full_message()));
        let transition = self.recorder.tick(attempt.at, outcome);
        on_update(&self.recorder.status(), transition.as_ref());

        let fresh = !attempt.had_connection && self.connection.is_some();
        // After a failure, the role tells why (a replica now); a broken connection is gone.
        if self.connection.is_some() && (fresh || failed || Instant::now() >= self.role_due) {
            self.read_role(on_update).await;
        }
        if dropped {
            self.connection = None;
        }
    }

    /// Deletes the probe key, counts the keys again and sums the run up.
    async fn finish(mut self, keys_before: Option<u64>) -> ProbeSummary {
        let ended = self.clock.now();
        let key = self.key.clone();
        let connection = self.connection.take();
        let connector = &self.connector;
        let keys_after = bounded(self.settings.setup_timeout(), async {
            let mut connection = match connection {
                Some(connection) => connection,
                None => connector.connect(self.settings.setup_timeout()).await?,
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
        self.recorder.finish(ended, keys_before, keys_after)
    }
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
