//! The Slack adapters against the local stand-in, over real HTTP: what goes on the wire, how
//! Slack's answers (429, 5xx, refusals, hangs, lost answers) are handled, and the posting pace.

use std::time::{Duration, Instant};

use cachewatch_adapters::slack::{RetryPolicy, SlackClient, SlackSettings, SlackWebhook};
use cachewatch_core::alerting::delivery::{ChatSink, DeliveryError, PostedMessage};
use cachewatch_core::alerting::slack::blockkit::{Block, Text};
use cachewatch_core::alerting::slack::{MessageMetadata, SlackMessage};
use cachewatch_tests::slack::{
    ALERTS, Endpoint, Fault, OPS, RandomFailures, RecordedRequest, SlackStandIn,
};
use chrono::Utc;
use secrecy::SecretString;
use serde_json::json;

/// Short waits so that every test takes well under a few seconds.
fn settings(slack: &SlackStandIn) -> SlackSettings {
    let api_base = slack.api_base();
    SlackSettings {
        timeout: Duration::from_millis(500),
        retry: RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(20),
            max_delay: Duration::from_secs(2),
        },
        min_interval: Duration::ZERO,
        ..SlackSettings::from_lookup(|name| {
            (name == "SLACK_API_BASE_URL").then(|| api_base.clone())
        })
        .unwrap()
    }
}

fn client_with(settings: SlackSettings, token: &str) -> SlackClient {
    SlackClient::new(settings, SecretString::from(token.to_owned())).unwrap()
}

fn client(slack: &SlackStandIn) -> SlackClient {
    client_with(settings(slack), slack.token())
}

/// A client of the stand-in that posts to one channel at most once every `min_interval`.
fn paced(slack: &SlackStandIn, min_interval: Duration) -> SlackClient {
    let settings = SlackSettings {
        min_interval,
        ..settings(slack)
    };
    client_with(settings, slack.token())
}

fn webhook(slack: &SlackStandIn) -> SlackWebhook {
    SlackWebhook::new(settings(slack), SecretString::from(slack.webhook_url())).unwrap()
}

fn alert(text: &str) -> SlackMessage {
    SlackMessage {
        text: text.to_owned(),
        blocks: vec![Block::section(Text::mrkdwn(text))],
        thread_ts: None,
        metadata: None,
    }
}

fn keyed(text: &str, key: &str) -> SlackMessage {
    SlackMessage {
        metadata: Some(MessageMetadata::for_delivery(key)),
        ..alert(text)
    }
}

fn reply(text: &str, thread_ts: &str) -> SlackMessage {
    SlackMessage {
        thread_ts: Some(thread_ts.to_owned()),
        ..alert(text)
    }
}

fn gap(earlier: &RecordedRequest, later: &RecordedRequest) -> Duration {
    later.received.duration_since(earlier.received)
}

// --- What goes on the wire --------------------------------------------------------------------

#[tokio::test]
async fn a_post_carries_the_bearer_token_json_and_no_unfurling() {
    let slack = SlackStandIn::start();

    let posted = client(&slack)
        .post("alerts", &alert("Node replacement"))
        .await
        .unwrap();

    assert_eq!(
        posted.channel, ALERTS,
        "Slack answers with the channel's ID"
    );
    let [request] = slack.requests_to(Endpoint::PostMessage).try_into().unwrap();
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {}", slack.token()).as_str())
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(request.body["text"], "Node replacement");
    assert_eq!(request.body["blocks"][0]["type"], "section");
    assert_eq!(request.body["unfurl_links"], false);
    assert_eq!(request.body["unfurl_media"], false);
    let [stored] = slack.parents(ALERTS).try_into().unwrap();
    assert_eq!(stored.ts, posted.ts);
    assert_eq!(stored.text, "Node replacement");
}

#[tokio::test]
async fn a_reply_lands_in_the_thread_of_its_parent() {
    let slack = SlackStandIn::start();
    let client = client(&slack);

    let parent = client
        .post(ALERTS, &alert("Maintenance scheduled"))
        .await
        .unwrap();
    let answer = client
        .post(ALERTS, &reply("Rescheduled", &parent.ts))
        .await
        .unwrap();

    assert!(client.threads());
    assert_eq!(slack.parents(ALERTS).len(), 1);
    let [stored] = slack.replies(ALERTS, &parent.ts).try_into().unwrap();
    assert_eq!(stored.ts, answer.ts);
    assert_eq!(stored.text, "Rescheduled");
    let request = slack.requests_to(Endpoint::PostMessage).pop().unwrap();
    assert_eq!(request.body["thread_ts"], parent.ts.as_str());
}

#[tokio::test]
async fn an_update_replaces_the_message_and_slack_keeps_every_version() {
    let slack = SlackStandIn::start();
    let client = client(&slack);
    let parent = client
        .post(ALERTS, &keyed("Scheduled", "evt-1"))
        .await
        .unwrap();

    let now = SlackMessage {
        blocks: vec![],
        ..keyed("Completed", "evt-1")
    };
    client
        .update(&parent.channel, &parent.ts, &now)
        .await
        .unwrap();

    let versions = slack.versions(ALERTS, &parent.ts);
    assert_eq!(
        versions.iter().map(|v| v.text.as_str()).collect::<Vec<_>>(),
        ["Scheduled", "Completed"]
    );
    let current = slack.message(ALERTS, &parent.ts).unwrap();
    assert!(
        current.blocks.is_empty(),
        "an update replaces the blocks too"
    );
    assert_eq!(current.delivery_key(), Some("evt-1"));
    let [request] = slack.requests_to(Endpoint::Update).try_into().unwrap();
    assert_eq!(request.body["ts"], parent.ts.as_str());
    assert_eq!(request.body["channel"], ALERTS);
}

#[tokio::test]
async fn updating_a_message_that_does_not_exist_is_permanent() {
    let slack = SlackStandIn::start();

    let err = client(&slack)
        .update(ALERTS, "1.000001", &alert("Completed"))
        .await
        .unwrap_err();

    assert!(
        matches!(err, DeliveryError::Permanent { ref code, .. } if code == "message_not_found"),
        "{err}"
    );
    assert_eq!(slack.count(Endpoint::Update), 1);
}

// --- Metadata and finding a delivery ---------------------------------------------------------

#[tokio::test]
async fn metadata_round_trips_and_find_delivery_finds_the_message() {
    let slack = SlackStandIn::start();
    let client = client(&slack);
    let since = Utc::now() - chrono::Duration::seconds(1);
    client.post(ALERTS, &alert("someone else's")).await.unwrap();

    let posted = client
        .post(ALERTS, &keyed("Node replacement", "evt-42"))
        .await
        .unwrap();

    let stored = slack.message(ALERTS, &posted.ts).unwrap();
    assert_eq!(
        stored.metadata,
        Some(json!({"event_type": "cachewatch_message", "event_payload": {"delivery": "evt-42"}}))
    );
    let found = client
        .find_delivery(ALERTS, None, "evt-42", since)
        .await
        .unwrap();
    assert_eq!(found, Some(posted));
    let request = slack.requests_to(Endpoint::History).pop().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.query["include_all_metadata"], "true");
    assert_eq!(request.query["channel"], ALERTS);
    assert!(request.query.contains_key("oldest"));
}

#[tokio::test]
async fn find_delivery_answers_none_for_a_key_never_posted_or_posted_before_since() {
    let slack = SlackStandIn::start();
    let client = client(&slack);
    client.post(ALERTS, &keyed("old", "evt-old")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let since = Utc::now();

    let never = client
        .find_delivery(ALERTS, None, "evt-never", since)
        .await
        .unwrap();
    let before = client
        .find_delivery(ALERTS, None, "evt-old", since)
        .await
        .unwrap();

    assert_eq!(never, None);
    assert_eq!(before, None);
}

#[tokio::test]
async fn find_delivery_finds_a_reply_in_its_thread() {
    let slack = SlackStandIn::start();
    let client = client(&slack);
    let since = Utc::now() - chrono::Duration::seconds(1);
    let parent = client
        .post(ALERTS, &keyed("Scheduled", "evt-1"))
        .await
        .unwrap();
    let message = SlackMessage {
        thread_ts: Some(parent.ts.clone()),
        ..keyed("Rescheduled", "evt-2")
    };
    let answer = client.post(ALERTS, &message).await.unwrap();

    let in_channel = client
        .find_delivery(ALERTS, None, "evt-2", since)
        .await
        .unwrap();
    let in_thread = client
        .find_delivery(ALERTS, Some(&parent.ts), "evt-2", since)
        .await
        .unwrap();

    assert_eq!(in_channel, None, "history holds parents only");
    assert_eq!(in_thread, Some(answer));
    let request = slack.requests_to(Endpoint::Replies).pop().unwrap();
    assert_eq!(request.query["ts"], parent.ts.as_str());
}

#[tokio::test]
async fn find_delivery_in_a_thread_that_does_not_exist_answers_none() {
    let slack = SlackStandIn::start();
    let since = Utc::now() - chrono::Duration::seconds(1);

    let found = client(&slack)
        .find_delivery(ALERTS, Some("1.000001"), "evt-1", since)
        .await
        .unwrap();

    assert_eq!(found, None);
}

#[tokio::test]
async fn find_delivery_pages_through_history_with_the_cursor() {
    let slack = SlackStandIn::builder().page_size(2).start();
    let since = Utc::now() - chrono::Duration::seconds(1);
    let oldest = slack.insert_message(
        ALERTS,
        None,
        "first",
        Some(
            json!({"event_type": "cachewatch_message", "event_payload": {"delivery": "evt-first"}}),
        ),
    );
    for n in 0..6 {
        slack.insert_message(ALERTS, None, &format!("later {n}"), None);
    }

    let found = client(&slack)
        .find_delivery(ALERTS, None, "evt-first", since)
        .await
        .unwrap();

    assert_eq!(
        found,
        Some(PostedMessage {
            channel: ALERTS.to_owned(),
            ts: oldest
        })
    );
    let pages = slack.requests_to(Endpoint::History);
    assert_eq!(
        pages.len(),
        4,
        "7 messages, 2 a page, the oldest on the last page"
    );
    assert!(!pages[0].query.contains_key("cursor"));
    assert_eq!(pages[1].query["cursor"], "stand-in:2");
    assert_eq!(pages[3].query["cursor"], "stand-in:6");
}

// --- Rate limits, server errors, timeouts -----------------------------------------------------

#[tokio::test]
async fn a_rate_limit_is_waited_out_for_its_retry_after() {
    let slack = SlackStandIn::start();
    slack.fail_next(Fault::RateLimited {
        retry_after_secs: 1,
    });

    let posted = client(&slack).post(ALERTS, &alert("hello")).await.unwrap();

    let [limited, accepted] = slack.requests_to(Endpoint::PostMessage).try_into().unwrap();
    assert_eq!(limited.status, Some(429));
    assert!(
        gap(&limited, &accepted) >= Duration::from_secs(1),
        "retried after {:?}",
        gap(&limited, &accepted)
    );
    assert_eq!(slack.parents(ALERTS).len(), 1);
    assert_eq!(slack.parents(ALERTS)[0].ts, posted.ts);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_longest_wait_is_handed_back_at_once() {
    let slack = SlackStandIn::start();
    slack.fail_next(Fault::RateLimited {
        retry_after_secs: 30,
    });
    let client = client(&slack);
    let start = Instant::now();

    let err = client.post(ALERTS, &alert("hello")).await.unwrap_err();

    assert!(start.elapsed() < Duration::from_secs(1));
    let DeliveryError::Retryable { retry_after, .. } = err else {
        panic!("a rate limit is retryable: {err}");
    };
    assert_eq!(retry_after, Some(Duration::from_secs(30)));
    assert_eq!(slack.count(Endpoint::PostMessage), 1);

    let start = Instant::now();
    client.post(ALERTS, &alert("later")).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "a wait handed back must not hold the next post"
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_slack_accepts() {
    let slack = SlackStandIn::start();
    slack.fail_next(Fault::HttpStatus(500));
    slack.fail_next(Fault::HttpStatus(503));

    client(&slack).post(ALERTS, &alert("hello")).await.unwrap();

    let statuses: Vec<_> = slack
        .requests_to(Endpoint::PostMessage)
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
    assert_eq!(slack.parents(ALERTS).len(), 1);
}

#[tokio::test]
async fn a_passing_slack_error_code_is_retried() {
    let slack = SlackStandIn::start();
    slack.fail_next(Fault::SlackError("service_unavailable".to_owned()));

    client(&slack).post(ALERTS, &alert("hello")).await.unwrap();

    assert_eq!(slack.count(Endpoint::PostMessage), 2);
    assert_eq!(slack.parents(ALERTS).len(), 1);
}

#[tokio::test]
async fn spent_attempts_end_in_a_retryable_error_and_nothing_is_posted() {
    let slack = SlackStandIn::start();
    slack.fail_next_n(3, Fault::HttpStatus(502));

    let err = client(&slack)
        .post(ALERTS, &alert("hello"))
        .await
        .unwrap_err();

    let DeliveryError::Retryable {
        reason,
        retry_after,
    } = &err
    else {
        panic!("server errors are retryable: {err}");
    };
    assert!(
        reason.contains("502") && reason.contains("3 attempts"),
        "{reason}"
    );
    assert_eq!(*retry_after, None);
    assert_eq!(slack.count(Endpoint::PostMessage), 3);
    assert!(slack.messages(ALERTS).is_empty());
}

#[tokio::test]
async fn a_hanging_slack_times_out_and_the_post_is_retried() {
    let slack = SlackStandIn::start();
    slack.fail_next(Fault::Hang(Duration::from_secs(5)));
    let settings = SlackSettings {
        timeout: Duration::from_millis(200),
        ..settings(&slack)
    };
    let start = Instant::now();

    client_with(settings, slack.token())
        .post(ALERTS, &alert("hello"))
        .await
        .unwrap();

    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(slack.count(Endpoint::PostMessage), 2);
    assert_eq!(slack.parents(ALERTS).len(), 1);
}

#[tokio::test]
async fn a_slack_that_keeps_hanging_ends_in_a_retryable_error_in_bounded_time() {
    let slack = SlackStandIn::start();
    slack.fail_next_n(3, Fault::Hang(Duration::from_secs(5)));
    let settings = SlackSettings {
        timeout: Duration::from_millis(150),
        ..settings(&slack)
    };
    let start = Instant::now();

    let err = client_with(settings, slack.token())
        .post(ALERTS, &alert("hello"))
        .await
        .unwrap_err();

    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let DeliveryError::Retryable { reason, .. } = &err else {
        panic!("a timeout is retryable: {err}");
    };
    assert!(
        reason.contains("no answer from Slack within 150ms"),
        "{reason}"
    );
    assert_eq!(slack.count(Endpoint::PostMessage), 3);
}

#[tokio::test]
async fn an_unreachable_slack_is_retryable() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let settings = SlackSettings::default()
        .with_api_base(&format!("http://{closed}/api"))
        .unwrap();
    let settings = SlackSettings {
        retry: RetryPolicy {
            attempts: 2,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        },
        min_interval: Duration::ZERO,
        ..settings
    };

    let err = client_with(settings, "xoxb-unreachable-secret")
        .post(ALERTS, &alert("hello"))
        .await
        .unwrap_err();

    let DeliveryError::Retryable { reason, .. } = &err else {
        panic!("no connection is retryable: {err}");
    };
    assert!(reason.contains("could not connect"), "{reason}");
    assert!(!reason.contains("unreachable-secret"));
}

// --- Never doubled ----------------------------------------------------------------------------

#[tokio::test]
async fn a_lost_answer_is_found_in_history_instead_of_posting_twice() {
    let slack = SlackStandIn::start();
    slack.fail_next_to(Endpoint::PostMessage, Fault::LostAnswer);

    let posted = client(&slack)
        .post(ALERTS, &keyed("hello", "evt-7"))
        .await
        .unwrap();

    let [stored] = slack.parents(ALERTS).try_into().unwrap();
    assert_eq!(stored.ts, posted.ts);
    assert_eq!(posted.channel, ALERTS);
    assert_eq!(slack.count(Endpoint::PostMessage), 1);
    assert_eq!(slack.count(Endpoint::History), 1);
}

#[tokio::test]
async fn a_lost_answer_to_a_reply_is_found_in_its_thread() {
    let slack = SlackStandIn::start();
    let client = client(&slack);
    let parent = client
        .post(ALERTS, &keyed("Scheduled", "evt-1"))
        .await
        .unwrap();
    slack.fail_next_to(Endpoint::PostMessage, Fault::LostAnswer);
    let message = SlackMessage {
        thread_ts: Some(parent.ts.clone()),
        ..keyed("Started", "evt-2")
    };

    let posted = client.post(ALERTS, &message).await.unwrap();

    let [stored] = slack.replies(ALERTS, &parent.ts).try_into().unwrap();
    assert_eq!(stored.ts, posted.ts);
    assert_eq!(slack.count(Endpoint::Replies), 1);
}

#[tokio::test]
async fn a_server_error_on_a_keyed_post_checks_history_then_posts_once() {
    let slack = SlackStandIn::start();
    slack.fail_next_to(Endpoint::PostMessage, Fault::HttpStatus(500));

    client(&slack)
        .post(ALERTS, &keyed("hello", "evt-8"))
        .await
        .unwrap();

    assert_eq!(slack.parents(ALERTS).len(), 1);
    assert_eq!(slack.count(Endpoint::PostMessage), 2);
    assert_eq!(slack.count(Endpoint::History), 1);
}

#[tokio::test]
async fn a_rate_limited_keyed_post_is_not_looked_for_since_it_was_refused() {
    let slack = SlackStandIn::start();
    slack.fail_next(Fault::RateLimited {
        retry_after_secs: 0,
    });

    client(&slack)
        .post(ALERTS, &keyed("hello", "evt-9"))
        .await
        .unwrap();

    assert_eq!(slack.count(Endpoint::History), 0);
    assert_eq!(slack.parents(ALERTS).len(), 1);
}

#[tokio::test]
async fn random_failures_never_double_a_keyed_post() {
    let slack = SlackStandIn::start();
    slack.fail_randomly(RandomFailures::thirty_percent(7));
    let client = client_with(
        SlackSettings {
            retry: RetryPolicy {
                attempts: 6,
                first_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(50),
            },
            ..settings(&slack)
        },
        slack.token(),
    );

    let mut answered = Vec::new();
    for n in 0..30 {
        let key = format!("evt-{n}");
        if let Ok(posted) = client.post(ALERTS, &keyed("hello", &key)).await {
            answered.push((key, posted.ts));
        }
    }

    let stored = slack.parents(ALERTS);
    let mut keys: Vec<_> = stored.iter().filter_map(|m| m.delivery_key()).collect();
    let all = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), all, "a delivery was posted twice");
    assert!(
        answered.len() >= 25,
        "only {} of 30 went through",
        answered.len()
    );
    for (key, ts) in &answered {
        let message = slack
            .message(ALERTS, ts)
            .expect("an answered post is in Slack");
        assert_eq!(message.delivery_key(), Some(key.as_str()));
    }
    assert!(
        slack.requests().iter().any(|r| r.fault.is_some()),
        "the seed produced no failure"
    );
}

// --- Refusals ---------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_channel_is_permanent_after_one_request() {
    let slack = SlackStandIn::start();

    let err = client(&slack)
        .post("C0NOWHERE", &alert("hello"))
        .await
        .unwrap_err();

    let DeliveryError::Permanent { code, detail } = &err else {
        panic!("channel_not_found is final: {err}");
    };
    assert_eq!(code, "channel_not_found");
    assert!(detail.contains("invite the app"), "{detail}");
    assert_eq!(slack.count(Endpoint::PostMessage), 1);
}

#[tokio::test]
async fn a_wrong_token_is_permanent_after_one_request() {
    let slack = SlackStandIn::start();

    let err = client_with(settings(&slack), "xoxb-wrong-but-secret")
        .post(ALERTS, &alert("hello"))
        .await
        .unwrap_err();

    assert!(
        matches!(&err, DeliveryError::Permanent { code, .. } if code == "invalid_auth"),
        "{err}"
    );
    assert_eq!(slack.count(Endpoint::PostMessage), 1);
    assert!(!err.to_string().contains("wrong-but-secret"));
    assert!(!format!("{err:?}").contains("wrong-but-secret"));
}

#[tokio::test]
async fn a_refusal_scripted_as_a_fault_keeps_its_code() {
    let slack = SlackStandIn::start();
    slack.fail_next(Fault::SlackError("not_in_channel".to_owned()));

    let err = client(&slack)
        .post(ALERTS, &alert("hello"))
        .await
        .unwrap_err();

    assert!(matches!(&err, DeliveryError::Permanent { code, .. } if code == "not_in_channel"));
    assert_eq!(slack.count(Endpoint::PostMessage), 1);
    assert!(slack.messages(ALERTS).is_empty());
}

#[tokio::test]
async fn the_token_never_shows_in_debug_or_in_errors() {
    let slack = SlackStandIn::start();
    let client = client(&slack);
    slack.fail_next_n(3, Fault::Hang(Duration::from_secs(5)));
    let fast = client_with(
        SlackSettings {
            timeout: Duration::from_millis(100),
            ..settings(&slack)
        },
        slack.token(),
    );

    let timeout = fast.post(ALERTS, &alert("hello")).await.unwrap_err();
    let refused = client.post("C0NOWHERE", &alert("hello")).await.unwrap_err();

    for text in [
        format!("{client:?}"),
        format!("{fast:?}"),
        timeout.to_string(),
        format!("{timeout:?}"),
        refused.to_string(),
        format!("{refused:?}"),
    ] {
        assert!(!text.contains(slack.token()), "the token leaked: {text}");
    }
}

// --- Pace ---------------------------------------------------------------------------------------

#[tokio::test]
async fn posts_to_one_channel_are_at_least_min_interval_apart() {
    let slack = SlackStandIn::start();
    let client = paced(&slack, Duration::from_millis(300));
    let other = client.clone();
    // A first post elsewhere opens the connection, so that the posts measured below do not
    // differ by a connection's set-up on arrival.
    client.post(OPS, &alert("warm-up")).await.unwrap();

    let (one, two) = (alert("one"), alert("two"));

    let (first, second) = tokio::join!(client.post(ALERTS, &one), other.post(ALERTS, &two));
    first.unwrap();
    second.unwrap();
    client.post(ALERTS, &alert("three")).await.unwrap();

    let requests: Vec<_> = slack
        .requests_to(Endpoint::PostMessage)
        .into_iter()
        .filter(|r| !r.raw_body.contains("warm-up"))
        .collect();
    assert_eq!(requests.len(), 3);
    // Paced when sent; on arrival a busy machine may shift one request by a few tens of
    // milliseconds, far less than the interval an unpaced client would miss by.
    for pair in requests.windows(2) {
        assert!(
            gap(&pair[0], &pair[1]) >= Duration::from_millis(250),
            "posts {:?} apart",
            gap(&pair[0], &pair[1])
        );
    }
}

#[tokio::test]
async fn a_busy_channel_does_not_hold_back_another_channel() {
    let slack = SlackStandIn::start();
    let client = paced(&slack, Duration::from_millis(400));
    client.post(ALERTS, &alert("first")).await.unwrap();
    let (second, elsewhere) = (alert("second"), alert("elsewhere"));

    let start = Instant::now();
    let (busy, other) = tokio::join!(client.post(ALERTS, &second), client.post(OPS, &elsewhere));
    busy.unwrap();
    other.unwrap();

    let ops = slack
        .requests_to(Endpoint::PostMessage)
        .into_iter()
        .find(|request| request.body["channel"] == OPS)
        .unwrap();
    assert!(
        ops.received.duration_since(start) < Duration::from_millis(200),
        "ops waited {:?}",
        ops.received.duration_since(start)
    );
    assert_eq!(slack.parents(ALERTS).len(), 2);
    assert_eq!(slack.parents(OPS).len(), 1);
}

// --- The webhook --------------------------------------------------------------------------------

#[tokio::test]
async fn the_webhook_posts_text_and_blocks_to_its_channel() {
    let slack = SlackStandIn::start();

    let posted = webhook(&slack)
        .post("anything", &keyed("hello", "evt-1"))
        .await
        .unwrap();

    assert_eq!(posted.ts, "");
    let [request] = slack.requests_to(Endpoint::Webhook).try_into().unwrap();
    assert_eq!(
        request.body,
        json!({"text": "hello", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]})
    );
    assert_eq!(request.header("authorization"), None);
    let [stored] = slack.parents(ALERTS).try_into().unwrap();
    assert_eq!(stored.via, Endpoint::Webhook);
    assert_eq!(stored.text, "hello");
}

#[tokio::test]
async fn the_webhook_cannot_thread_update_or_find() {
    let slack = SlackStandIn::start();
    let webhook = webhook(&slack);

    let updated = webhook.update(ALERTS, "1.000001", &alert("new")).await;
    let found = webhook
        .find_delivery(ALERTS, None, "evt-1", Utc::now())
        .await;

    assert!(!webhook.threads());
    assert_eq!(updated, Ok(()));
    assert_eq!(found, Ok(None));
    assert!(slack.requests().is_empty());
}

#[tokio::test]
async fn webhook_refusals_are_permanent_with_slacks_code() {
    let slack = SlackStandIn::start();
    let webhook = webhook(&slack);

    for code in [
        "invalid_payload",
        "no_text",
        "channel_not_found",
        "channel_is_archived",
        "action_prohibited",
        "posting_to_general_channel_denied",
        "no_service",
        "invalid_token",
    ] {
        slack.fail_next(Fault::SlackError(code.to_owned()));
        let err = webhook.post(ALERTS, &alert("hello")).await.unwrap_err();
        assert!(
            matches!(&err, DeliveryError::Permanent { code: got, .. } if got == code),
            "{code}: {err}"
        );
    }

    assert_eq!(slack.count(Endpoint::Webhook), 8, "one request each");
    assert!(slack.messages(ALERTS).is_empty());
}

#[tokio::test]
async fn webhook_rate_limits_and_server_errors_are_retried() {
    let slack = SlackStandIn::start();
    slack.fail_next(Fault::RateLimited {
        retry_after_secs: 1,
    });
    slack.fail_next(Fault::SlackError("rollup_error".to_owned()));
    slack.fail_next(Fault::HttpStatus(503));
    let webhook = SlackWebhook::new(
        SlackSettings {
            retry: RetryPolicy {
                attempts: 4,
                ..settings(&slack).retry
            },
            ..settings(&slack)
        },
        SecretString::from(slack.webhook_url()),
    )
    .unwrap();

    webhook.post(ALERTS, &alert("hello")).await.unwrap();

    let requests = slack.requests_to(Endpoint::Webhook);
    let statuses: Vec<_> = requests.iter().map(|request| request.status).collect();
    assert_eq!(statuses, [Some(429), Some(500), Some(503), Some(200)]);
    assert!(gap(&requests[0], &requests[1]) >= Duration::from_secs(1));
    assert_eq!(slack.parents(ALERTS).len(), 1);
}

#[tokio::test]
async fn a_webhook_whose_secret_is_wrong_or_gone_is_permanent() {
    let slack = SlackStandIn::start();
    let wrong = slack
        .webhook_url()
        .replace(slack.webhook_secret(), "not-the-secret");
    let gone = format!("http://{}/services/T0/B0/gone", slack.address());

    let mut codes = Vec::new();
    for url in [wrong, gone] {
        let err = SlackWebhook::new(settings(&slack), SecretString::from(url))
            .unwrap()
            .post(ALERTS, &alert("hello"))
            .await
            .unwrap_err();
        assert!(!err.to_string().contains("not-the-secret"), "{err}");
        let DeliveryError::Permanent { code, .. } = err else {
            panic!("a bad webhook is final: {err}");
        };
        codes.push(code);
    }

    assert_eq!(codes, ["invalid_token", "no_service"]);
    assert_eq!(slack.count(Endpoint::Webhook), 2);
}

#[tokio::test]
async fn the_webhook_url_never_shows_in_debug_or_in_errors() {
    let slack = SlackStandIn::start();
    slack.fail_next_n(3, Fault::Hang(Duration::from_secs(5)));
    let webhook = SlackWebhook::new(
        SlackSettings {
            timeout: Duration::from_millis(100),
            ..settings(&slack)
        },
        SecretString::from(slack.webhook_url()),
    )
    .unwrap();

    let err = webhook.post(ALERTS, &alert("hello")).await.unwrap_err();

    assert!(err.is_retryable(), "{err}");
    for text in [format!("{webhook:?}"), err.to_string(), format!("{err:?}")] {
        assert!(
            !text.contains(slack.webhook_secret()),
            "the webhook URL leaked: {text}"
        );
        assert!(
            !text.contains("/services/"),
            "the webhook URL leaked: {text}"
        );
    }
}
