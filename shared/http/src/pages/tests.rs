//! The pages' HTML: what they show, how it is built, and that no value from a request or an event
//! ever becomes markup.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cachewatch_core::cluster::facts::ClusterFacts;
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::response::{Acknowledgement, Outcome, StepDone};
use cachewatch_core::intake::parse::{ParseContext, parse_document};
use cachewatch_core::lifecycle::{self, Maintenance, MaintenanceState};
use cachewatch_core::model::event::{EventId, MaintenanceEvent};
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::{Owners, RunbookInput, Runbooks, escape};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::*;

const XSS_SCRIPT: &str = "<script>alert(1)</script>";
const XSS_ATTRIBUTE: &str = "\"><img src=x onerror=alert(1)>";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    at("2026-11-20T12:00:00Z")
}

fn text_time(t: DateTime<Utc>) -> String {
    t.format("%b %d %H:%M UTC").to_string()
}

fn record(t: DateTime<Utc>, source: &str, source_type: &str, message: &str) -> serde_json::Value {
    json!({"SourceIdentifier": source, "SourceType": source_type, "Date": t.to_rfc3339(), "Message": message})
}

fn scheduled(t: DateTime<Utc>, cluster: &str, window: DateTime<Utc>) -> serde_json::Value {
    record(
        t,
        cluster,
        "cache-cluster",
        &format!(
            "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
            text_time(window),
            text_time(window + Duration::hours(1))
        ),
    )
}

/// A realistic history: a Redis primary rescheduled then replaced with a failover, a Memcached
/// node replaced and announced again (a repeat), an upcoming replacement, and two clusters with
/// hostile names.
fn events() -> Vec<MaintenanceEvent> {
    let hour = Duration::hours(1);
    let (w1, w2) = (at("2026-11-12T19:00:00Z"), at("2026-11-15T19:00:00Z"));
    let mc = at("2026-11-10T03:00:00Z");
    let records = vec![
        scheduled(at("2026-11-05T10:00:00Z"), "orders-0001-001", w1),
        record(
            at("2026-11-08T10:00:00Z"),
            "orders-0001-001",
            "cache-cluster",
            &format!(
                "The replacement in maintenance window for node with Cache Cluster ID: orders-0001-001, Node ID: 0001 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
                text_time(w1),
                text_time(w1 + hour),
                text_time(w2),
                text_time(w2 + hour)
            ),
        ),
        record(
            w2 + Duration::minutes(2),
            "orders-0001-001",
            "cache-cluster",
            "Recovering cache nodes 0001",
        ),
        record(
            w2 + Duration::minutes(4),
            "orders",
            "replication-group",
            "Failover from master node orders-0001-001 to replica node orders-0001-002 completed",
        ),
        record(
            w2 + Duration::minutes(9),
            "orders-0001-001",
            "cache-cluster",
            "Finished recovery for cache nodes 0001",
        ),
        scheduled(at("2026-11-03T08:00:00Z"), "sessions-mc", mc),
        record(
            mc + Duration::minutes(20),
            "sessions-mc",
            "cache-cluster",
            "Finished recovery for cache nodes 0001",
        ),
        scheduled(
            mc + Duration::days(1),
            "sessions-mc",
            at("2026-11-24T03:00:00Z"),
        ),
        scheduled(
            at("2026-11-18T09:00:00Z"),
            XSS_SCRIPT,
            at("2026-11-26T19:00:00Z"),
        ),
        record(
            at("2026-11-19T09:00:00Z"),
            XSS_ATTRIBUTE,
            "cache-cluster",
            "Failover to replica node x-0001-002 completed",
        ),
    ];
    let document = json!({ "Events": records }).to_string();
    parse_document(
        &document,
        &ParseContext::received_at(at("2026-11-20T00:00:00Z")),
    )
    .expect("the fixture parses")
}

fn maintenances(events: &[MaintenanceEvent]) -> Vec<Maintenance> {
    let mut groups: BTreeMap<String, Vec<MaintenanceEvent>> = BTreeMap::new();
    for e in events {
        if let Some(key) = e.group_key() {
            groups.entry(key).or_default().push(e.clone());
        }
    }
    groups
        .values()
        .flat_map(|g| lifecycle::assemble(g))
        .collect()
}

fn links(events: &[MaintenanceEvent]) -> BTreeMap<EventId, String> {
    events
        .iter()
        .map(|e| (e.id.clone(), format!("/runbooks/{}?sig=a%26b", e.id)))
        .collect()
}

fn history_page() -> HistoryPage {
    let events = events();
    HistoryPage {
        filters: BTreeMap::new(),
        query: EventQuery::default(),
        maintenances: maintenances(&events),
        runbook_links: links(&events),
        events,
        error: None,
        zone: Zone::Utc,
        now: now(),
    }
}

fn orders_event(events: &[MaintenanceEvent]) -> MaintenanceEvent {
    events
        .iter()
        .filter(|e| e.cluster_label() == "orders-0001-001")
        .max_by_key(|e| e.occurred_at)
        .cloned()
        .unwrap()
}

fn runbook_page() -> RunbookPage {
    let events = events();
    let event = orders_event(&events);
    let maintenance = maintenances(&events)
        .into_iter()
        .find(|m| m.event_ids.contains(&event.id))
        .unwrap();
    let facts = ClusterFacts::default();
    let owners = Owners::default();
    let members: Vec<MaintenanceEvent> = events
        .iter()
        .filter(|e| maintenance.event_ids.contains(&e.id))
        .cloned()
        .collect();
    let input =
        RunbookInput::new(&event, &facts, &owners, now()).with_maintenance(&maintenance, &members);
    let runbook = Runbooks::embedded().render(&input).unwrap();
    RunbookPage {
        runbook,
        maintenance: Some(maintenance),
        acknowledged: Some(Acknowledgement {
            event_id: event.id.clone(),
            by: "U0ONCALL".into(),
            at: at("2026-11-05T10:07:00Z"),
        }),
        steps_done: vec![StepDone {
            event_id: event.id.clone(),
            step: 2,
            by: "U0ONCALL".into(),
            at: at("2026-11-15T18:40:00Z"),
        }],
        outcome: None,
        step_url: Some(format!("/runbooks/{}/steps?sig=x", event.id)),
        event,
        zone: Zone::Utc,
        now: now(),
    }
}

/// The names of the tags of `html`, in order, closing tags with a `/` before, self-closing ones
/// with a `/` after. Panics on a `<` that starts no tag: text never holds one once escaped.
fn tags(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        if rest.starts_with("!DOCTYPE") {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        assert!(
            !name.is_empty() && name != "/",
            "a `<` starts no tag: {:.60}",
            rest
        );
        let close = rest.find('>').expect("every tag closes");
        let self_closing = rest[..close].ends_with('/');
        out.push(if self_closing {
            format!("{name}/")
        } else {
            name
        });
        rest = &rest[close + 1..];
    }
    out
}

/// Checks that every element opened is closed, in order, and that only `allowed` elements occur.
fn assert_well_formed(html: &str, allowed: &[&str]) {
    const VOID: [&str; 4] = ["meta", "link", "input", "br"];
    let mut open: Vec<String> = Vec::new();
    for tag in tags(html) {
        let name = tag.trim_matches('/');
        assert!(allowed.contains(&name), "unexpected element <{tag}>");
        if tag.ends_with('/') {
            continue;
        }
        if let Some(closing) = tag.strip_prefix('/') {
            assert_eq!(
                open.pop().as_deref(),
                Some(closing),
                "</{closing}> closes nothing open"
            );
        } else if !VOID.contains(&name) {
            open.push(tag);
        }
    }
    assert!(open.is_empty(), "left open: {open:?}");
}

/// The elements the history page is made of.
const HISTORY_ELEMENTS: &[&str] = &[
    "html", "head", "meta", "link", "title", "style", "body", "header", "span", "main", "h1", "h2",
    "form", "label", "input", "select", "option", "div", "button", "a", "p", "section", "svg",
    "desc", "g", "rect", "text", "line", "path", "ul", "li", "table", "thead", "tbody", "tr", "th",
    "td", "time",
];

/// The elements the runbook page is made of.
const RUNBOOK_ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "link",
    "title",
    "style",
    "body",
    "header",
    "span",
    "main",
    "h1",
    "h2",
    "p",
    "dl",
    "dt",
    "dd",
    "strong",
    "br",
    "section",
    "ul",
    "li",
    "ol",
    "div",
    "input",
    "label",
    "pre",
    "code",
    "blockquote",
    "script",
    "a",
];

fn between<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html.find(open).expect("the element is there") + open.len();
    let end = start + html[start..].find(close).expect("the element closes");
    &html[start..end]
}

fn hash_source(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

#[test]
fn the_history_page_is_well_formed_with_hostile_cluster_names() {
    // Act
    let html = history(&history_page());

    // Assert
    assert_well_formed(&html, HISTORY_ELEMENTS);
    assert!(!html.contains("<script"), "the history page runs no script");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn filters_are_shown_back_escaped_and_an_error_is_explained() {
    // Arrange
    let mut page = history_page();
    page.filters = BTreeMap::from([
        ("cluster".to_owned(), XSS_ATTRIBUTE.to_owned()),
        ("text".to_owned(), XSS_SCRIPT.to_owned()),
        ("since".to_owned(), "yesterday".to_owned()),
    ]);
    page.error = Some(format!("{XSS_SCRIPT:?} is not a date"));

    // Act
    let html = history(&page);

    // Assert
    assert_well_formed(&html, HISTORY_ELEMENTS);
    assert!(
        html.contains("name=\"cluster\" value=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\"")
    );
    assert!(html.contains("name=\"text\" value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert!(html.contains("name=\"since\" value=\"yesterday\""));
    assert!(html.contains(
        "<p class=\"error\" role=\"alert\">&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; is not a date</p>"
    ));
}

#[test]
fn filters_the_form_does_not_show_are_carried_in_hidden_fields() {
    // Arrange
    let mut page = history_page();
    page.filters = BTreeMap::from([
        ("cluster".to_owned(), "orders".to_owned()),
        ("limit".to_owned(), "20".to_owned()),
        ("sig".to_owned(), "a\"b&c".to_owned()),
    ]);

    // Act
    let html = history(&page);

    // Assert
    assert!(html.contains("<input type=\"hidden\" name=\"limit\" value=\"20\">"));
    assert!(html.contains("<input type=\"hidden\" name=\"sig\" value=\"a&quot;b&amp;c\">"));
    assert!(!html.contains("type=\"hidden\" name=\"cluster\""));
    assert!(
        html.contains("<a href=\"?limit=20&amp;sig=a%22b%26c\">Clear</a>"),
        "{html}"
    );
}

#[test]
fn the_kind_select_offers_the_known_kinds_and_keeps_an_unknown_one() {
    // Arrange
    let mut page = history_page();
    page.filters = BTreeMap::from([("kind".to_owned(), "ssl_certificate_renewed".to_owned())]);

    // Act
    let html = history(&page);

    // Assert
    let select = between(&html, "<select name=\"kind\">", "</select>");
    assert!(select.contains(
        "<option value=\"node_replacement_scheduled\">node replacement scheduled</option>"
    ));
    assert!(select.contains("<option value=\"failover_complete\">failover complete</option>"));
    assert!(select.contains("<option value=\"ssl_certificate_renewed\" selected>"));
    assert_eq!(select.matches(" selected").count(), 1, "{select}");

    page.filters = BTreeMap::from([("kind".to_owned(), "failover_complete".to_owned())]);
    let html = history(&page);
    let select = between(&html, "<select name=\"kind\">", "</select>");
    assert!(select.contains("<option value=\"failover_complete\" selected>"));
    assert_eq!(select.matches(" selected").count(), 1, "{select}");
}

#[test]
fn each_event_is_a_row_with_its_time_in_the_zone_and_its_runbook_link() {
    // Arrange
    let mut page = history_page();
    page.zone = "Asia/Tokyo".parse().unwrap();

    // Act
    let html = history(&page);

    // Assert
    let body = between(&html, "<tbody>", "</tbody>");
    assert_eq!(body.matches("<tr ").count(), page.events.len());
    for e in &page.events {
        assert!(
            body.contains(&format!("data-event-id=\"{}\"", e.id)),
            "{}",
            e.id
        );
        assert!(body.contains(&format!(
            "<a href=\"/runbooks/{}?sig=a%26b\">runbook</a>",
            e.id
        )));
    }
    // The failover at 19:04 UTC on Nov 15 is 04:04 the next day in Tokyo.
    assert!(body.contains(">2026-11-16 04:04 JST</time>"), "{body}");
    assert!(body.contains("2026-11-16 04:00–05:00 JST<span class=\"sub\">moved from 2026-11-13 04:00–05:00 JST</span>"), "{body}");
    assert!(html.contains("Times in Asia/Tokyo."));
}

#[test]
fn links_that_are_not_web_addresses_are_not_linked() {
    // Arrange
    let mut page = history_page();
    for url in page.runbook_links.values_mut() {
        *url = "javascript:alert(1)".into();
    }

    // Act
    let html = history(&page);

    // Assert
    assert!(!html.contains("javascript:"), "{html}");
    assert!(!html.contains("<a href=\"/runbooks"));
}

#[test]
fn an_empty_history_says_so() {
    // Arrange
    let mut page = history_page();
    page.events.clear();
    page.maintenances.clear();

    // Act
    let html = history(&page);

    // Assert
    assert_well_formed(&html, HISTORY_ELEMENTS);
    assert!(html.contains("No events match these filters."));
    assert!(html.contains("No maintenances to draw"));
    assert!(!html.contains("<table"));
    assert!(!html.contains("<svg"));
}

#[test]
fn a_full_page_of_results_says_older_ones_are_not_shown() {
    // Arrange
    let mut page = history_page();
    page.query.limit = page.events.len();

    // Act
    let html = history(&page);

    // Assert
    assert!(html.contains("Only the newest 10 are shown"), "{html}");
}

#[test]
fn the_timeline_draws_one_row_per_cluster_with_bars_coloured_by_state() {
    // Arrange
    let page = history_page();
    let clusters: BTreeSet<String> = page.maintenances.iter().map(timeline::row_label).collect();

    // Act
    let html = history(&page);

    // Assert
    let svg = between(&html, "<svg", "</svg>");
    assert_eq!(svg.matches("<g class=\"row\"").count(), clusters.len());
    assert!(svg.contains(&format!("data-rows=\"{}\"", clusters.len())));
    for cluster in &clusters {
        let escaped = escape::html(cluster);
        assert!(
            svg.contains(&format!("data-cluster=\"{escaped}\"")),
            "{cluster}"
        );
    }
    assert_eq!(
        svg.matches("<g class=\"m\"").count(),
        page.maintenances.len()
    );
    for m in &page.maintenances {
        let state = m.status(page.now).as_str();
        assert!(
            svg.contains(&format!("data-id=\"{}\" data-state=\"{state}\"", m.id)),
            "{} {state}",
            m.id
        );
    }
    // The orders replacement: completed, over its window, with the window it moved from and its
    // failover; the Memcached node's second notice is a repeat; an upcoming one is scheduled.
    assert!(svg.contains("class=\"bar s-completed\""));
    assert!(svg.contains("class=\"prev\""));
    assert!(svg.contains("<path class=\"fo\""));
    assert!(svg.contains("failover at 2026-11-15 19:04 UTC: orders-0001-001 to orders-0001-002"));
    assert!(svg.contains("class=\"bar s-scheduled repeat\""), "{svg}");
    assert!(svg.contains("class=\"now\""));
    assert!(svg.contains("class=\"tick\""));
}

#[test]
fn bars_link_to_their_runbook_and_titles_are_escaped() {
    // Act
    let html = history(&history_page());

    // Assert
    let svg = between(&html, "<svg", "</svg>");
    assert!(svg.contains("<a href=\"/runbooks/"), "{svg}");
    assert!(
        svg.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt; node 0001\n"),
        "{svg}"
    );
    assert!(
        svg.contains("<title>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "{svg}"
    );
}

#[test]
fn hostile_names_cannot_leave_the_chart() {
    // Arrange
    const CLOSE_SVG: &str = "</svg><script>alert(1)</script>'\"";
    const CLOSE_TITLE: &str = "</title></svg><img src=x onerror=alert(1)>";
    let base = history_page();
    let mut m = base
        .maintenances
        .iter()
        .find(|m| !m.failovers.is_empty())
        .unwrap()
        .clone();
    m.cluster_id = Some(cachewatch_core::model::ids::ClusterId::parse(CLOSE_SVG).unwrap());
    m.failovers[0].from = Some(CLOSE_TITLE.into());
    m.failovers[0].to = Some(CLOSE_SVG.into());
    let page = HistoryPage {
        maintenances: vec![m],
        events: Vec::new(),
        ..base
    };

    // Act
    let html = history(&page);

    // Assert
    assert_well_formed(&html, HISTORY_ELEMENTS);
    assert_eq!(html.matches("</svg>").count(), 1, "{html}");
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    let svg = between(&html, "<svg", "</svg>");
    let shown = "&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;&quot;";
    assert!(svg.contains(&format!("data-cluster=\"{shown}\"")), "{svg}");
    assert!(svg.contains(&format!("<title>{shown}</title>")), "{svg}");
    assert!(
        svg.contains(&format!(
            "&lt;/title&gt;&lt;/svg&gt;&lt;img src=x onerror=alert(1)&gt; to {shown}</title></path>"
        )),
        "{svg}"
    );
}

#[test]
fn a_maintenance_without_a_window_is_a_mark() {
    // Act
    let html = history(&history_page());

    // Assert: the failover of the cluster with a hostile name has no window.
    let svg = between(&html, "<svg", "</svg>");
    assert!(svg.contains("class=\"bar s-completed mark\""), "{svg}");
}

#[test]
fn many_clusters_are_bounded_and_the_rest_is_counted() {
    // Arrange
    let base = history_page();
    let template = base
        .maintenances
        .iter()
        .find(|m| m.state == MaintenanceState::Completed && m.window.is_some())
        .unwrap()
        .clone();
    let maintenances: Vec<Maintenance> = (0..MAX_ROWS + 25)
        .map(|i| {
            let mut m = template.clone();
            m.cluster_id =
                Some(cachewatch_core::model::ids::ClusterId::parse(&format!("c{i:03}")).unwrap());
            let shift = Duration::hours(i as i64);
            m.window = m.window.map(|mut w| {
                w.start += shift;
                w.end += shift;
                w
            });
            m.last_event_at += shift;
            m
        })
        .collect();
    let page = HistoryPage {
        maintenances,
        ..base
    };

    // Act
    let html = history(&page);

    // Assert
    let svg = between(&html, "<svg", "</svg>");
    assert_eq!(svg.matches("<g class=\"row\"").count(), MAX_ROWS);
    assert!(
        !svg.contains("data-cluster=\"c000\""),
        "the least recent cluster is left out"
    );
    assert!(svg.contains(&format!("data-cluster=\"c{:03}\"", MAX_ROWS + 24)));
    assert!(html.contains("Not drawn: 25 less recently active clusters"));
}

#[test]
fn the_runbook_page_shows_the_maintenance_and_ticks_steps_already_done() {
    // Arrange
    let page = runbook_page();

    // Act
    let html = runbook(&page);

    // Assert
    assert_well_formed(&html, RUNBOOK_ELEMENTS);
    let facts = between(&html, "<dl class=\"facts\">", "</dl>");
    assert!(
        facts.contains("<dt>Cluster</dt><dd>orders-0001-001"),
        "{facts}"
    );
    assert!(facts.contains("<dt>Node</dt><dd>0001</dd>"), "{facts}");
    assert!(facts.contains("<dt>Window</dt><dd>2026-11-15 19:00–20:00 UTC<br><span class=\"muted\">moved from 2026-11-12 19:00–20:00 UTC</span>"), "{facts}");
    assert!(
        facts.contains("<dt>Deadline</dt><dd><strong>2026-11-15 19:00 UTC</strong>"),
        "{facts}"
    );
    assert!(
        facts.contains("<span class=\"state s-completed\">completed</span>"),
        "{facts}"
    );
    assert!(
        facts.contains(
            "<dt>Failover</dt><dd>2026-11-15 19:04 UTC: orders-0001-001 to orders-0001-002"
        ),
        "{facts}"
    );
    assert!(
        facts.contains(
            "<dt>Acknowledged</dt><dd>by <strong>U0ONCALL</strong>, 2026-11-05 10:07 UTC"
        ),
        "{facts}"
    );
    let steps: Vec<_> = page.runbook.steps().collect();
    assert!(steps.len() >= 2);
    assert_eq!(html.matches("type=\"checkbox\"").count(), steps.len());
    assert!(
        html.contains(
            "<input type=\"checkbox\" id=\"step-2-box\" data-step=\"2\" checked data-done>"
        )
    );
    assert!(html.contains("<input type=\"checkbox\" id=\"step-1-box\" data-step=\"1\">"));
    assert!(html.contains("Done by U0ONCALL, 2026-11-15 18:40 UTC"));
    assert!(html.contains(&format!(
        "<main data-step-url=\"/runbooks/{}/steps?sig=x\">",
        page.event.id
    )));
    let commands: Vec<&str> = page.runbook.commands().collect();
    assert!(!commands.is_empty());
    assert_eq!(
        html.matches("<div class=\"cmd\"><pre><code>").count(),
        steps.iter().filter(|s| !s.commands.is_empty()).count()
    );
    assert!(!html.contains("class=\"drill\""));
}

#[test]
fn a_runbook_page_that_cannot_record_says_so_and_names_no_address() {
    // Arrange
    let mut page = runbook_page();
    page.step_url = None;

    // Act
    let html = runbook(&page);

    // Assert
    assert!(html.contains("<main>\n"));
    assert!(!html.contains("data-step-url="));
    assert!(html.contains("Ticks on this page are not recorded."));
}

#[test]
fn drills_carry_a_banner_and_outcomes_are_shown() {
    // Arrange
    let mut page = runbook_page();
    page.event.drill = true;
    page.outcome = Some(Outcome {
        event_id: page.event.id.clone(),
        handled: "manual-failover".into(),
        site_maintenance: false,
        downtime: Some(Duration::seconds(125)),
        note: Some("about two minutes, as rehearsed".into()),
        by: "U0ONCALL".into(),
        at: at("2026-11-15T20:10:00Z"),
    });

    // Act
    let html = runbook(&page);

    // Assert
    let drill = html
        .find("<p class=\"drill\" role=\"note\">DRILL:")
        .expect("a banner");
    assert!(drill < html.find("<h1>").unwrap(), "the banner comes first");
    assert!(html.contains("<dt>Outcome</dt><dd>manual failover; site maintenance: no; downtime 2 minutes 5 seconds<br>about two minutes, as rehearsed<br>"));
}

#[test]
fn hostile_values_on_the_runbook_page_stay_text() {
    // Arrange
    let mut page = runbook_page();
    page.acknowledged.as_mut().unwrap().by = XSS_SCRIPT.into();
    page.steps_done[0].by = XSS_ATTRIBUTE.into();
    page.step_url = Some(format!("/steps{XSS_ATTRIBUTE}"));
    page.outcome = Some(Outcome {
        event_id: page.event.id.clone(),
        handled: XSS_SCRIPT.into(),
        site_maintenance: true,
        downtime: None,
        note: Some(XSS_ATTRIBUTE.into()),
        by: XSS_SCRIPT.into(),
        at: at("2026-11-15T20:10:00Z"),
    });
    page.maintenance.as_mut().unwrap().cluster_id =
        Some(cachewatch_core::model::ids::ClusterId::parse(XSS_SCRIPT).unwrap());

    // Act
    let html = runbook(&page);

    // Assert
    assert_well_formed(&html, RUNBOOK_ELEMENTS);
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("data-step-url=\"/steps&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\""));
    assert!(html.contains("<dt>Cluster</dt><dd>&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn the_policy_allows_exactly_the_pages_style_and_script() {
    // Arrange
    let policy = content_security_policy();
    let history_html = history(&history_page());
    let runbook_html = runbook(&runbook_page());

    // Act
    let style = hash_source(between(&history_html, "<style>", "</style>"));
    let script = hash_source(between(&runbook_html, "<script>", "</script>"));

    // Assert
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert!(policy.contains(&format!("style-src {style};")), "{policy}");
    assert!(
        policy.contains(&format!("script-src {script};")),
        "{policy}"
    );
    assert_eq!(
        between(&runbook_html, "<style>", "</style>"),
        between(&history_html, "<style>", "</style>")
    );
    assert!(policy.contains("connect-src 'self'") && policy.contains("form-action 'self'"));
    for html in [&history_html, &runbook_html] {
        // Inline style attributes and event handlers would be refused by the policy.
        assert!(!html.contains(" style=\""), "no style attribute");
        assert!(
            !html.contains(" onclick=") && !html.contains(" onload="),
            "no handler"
        );
        // Nothing loads from elsewhere; the only links out are to AWS's documentation, and
        // they send no referrer (the page's address is signed).
        assert!(!html.contains("src=\"http"), "nothing external");
        assert_eq!(
            html.matches("href=\"http").count(),
            html.matches("<a rel=\"noreferrer\" href=\"https://docs.aws.amazon.com/")
                .count(),
            "links out only to AWS's documentation"
        );
    }
}
