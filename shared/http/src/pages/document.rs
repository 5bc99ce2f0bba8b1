//! What both pages share besides their templates: the one stylesheet, the runbook page's script,
//! the Content-Security-Policy that allows exactly these, and the small helpers that prepare
//! values for the templates (which links a page may show, query strings, windows, shortened
//! texts).
//!
//! The stylesheet and the script are constants, so the policy names them by hash: no inline
//! `style` attribute, no event handler attribute and no other script can run on a page, even if a
//! value ever escaped its escaping.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cachewatch_core::model::timefmt::Zone;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The stylesheet of both pages (screen and print).
pub(super) const STYLE: &str = r#"
:root{color-scheme:light;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0b5cad;--bad:#b3261e}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:#fff}
a{color:var(--accent)}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.88em}
header.bar{background:#1f2937;color:#fff;padding:.55rem 1.5rem;display:flex;gap:.8rem;align-items:baseline}
header.bar .brand{font-weight:700;letter-spacing:.02em}
header.bar .where{color:#cbd5e1;font-size:.92rem}
main{max-width:78rem;margin:0 auto;padding:.5rem 1.5rem 3rem}
body.runbook main{max-width:56rem}
h1{font-size:1.55rem;line-height:1.25;margin:1rem 0 .5rem}
h2{font-size:1.15rem;margin:1.5rem 0 .6rem;padding-bottom:.25rem;border-bottom:1px solid var(--line)}
.muted{color:var(--muted)}
.error{border-left:4px solid var(--bad);background:#fdecea;color:#7a1c16;padding:.5rem .8rem;margin:.8rem 0}
.drill{border:3px solid var(--bad);color:var(--bad);font-weight:700;padding:.5rem 1rem;margin:1rem 0;letter-spacing:.01em}
form.filters{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:.6rem .9rem;background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;font-weight:600;color:var(--muted)}
form.filters input,form.filters select{font:inherit;font-weight:400;color:var(--ink);padding:.3rem .45rem;border:1px solid #b7c0ca;border-radius:4px;background:#fff;margin-top:.15rem;min-width:0}
form.filters .actions{display:flex;gap:.8rem;align-items:end}
form.filters button{font:inherit;font-weight:600;background:var(--accent);color:#fff;border:0;border-radius:4px;padding:.35rem 1.1rem;cursor:pointer}
.summary{margin:.3rem 0 .6rem;color:var(--muted)}
table.events{border-collapse:collapse;width:100%;font-size:.9rem}
table.events th{text-align:left;font-size:.78rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);border-bottom:2px solid var(--line);padding:.35rem .5rem}
table.events td{border-bottom:1px solid var(--line);padding:.4rem .5rem;vertical-align:top}
table.events tr.c-node_replacement td:first-child{box-shadow:inset 3px 0 #0072b2}
table.events tr.c-failover td:first-child{box-shadow:inset 3px 0 #d55e00}
table.events td.time{white-space:nowrap}
table.events td.msg{color:var(--muted);font-size:.84rem;max-width:26rem}
.sub{display:block;color:var(--muted);font-size:.8rem}
.tag{display:inline-block;font-size:.72rem;font-weight:700;border-radius:3px;padding:0 .35rem;margin-left:.3rem;vertical-align:.08em;border:1px solid currentColor}
.tag.drill-tag{color:var(--bad)}
.timeline-box{border:1px solid var(--line);border-radius:6px;padding:.5rem .6rem .3rem}
svg.timeline{display:block;width:100%;height:auto;font-size:12px}
svg.timeline .band{fill:#fff}
svg.timeline .band.odd{fill:#f3f5f8}
svg.timeline .label{fill:var(--ink)}
svg.timeline .grid{stroke:#dfe4ea;stroke-width:1}
svg.timeline .axis{stroke:#8c959f;stroke-width:1}
svg.timeline .tick{fill:var(--muted);font-size:11px}
svg.timeline .now{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:4 3}
svg.timeline .now-label{fill:var(--bad);font-size:11px;font-weight:700}
svg.timeline .prev{fill:none;stroke:#6e7781;stroke-width:1.2;stroke-dasharray:3 2}
svg.timeline .repeat{stroke:#1f2328;stroke-width:2.5}
svg.timeline .fo{fill:#d55e00;stroke:#fff;stroke-width:.8}
svg.timeline .drill-bar{fill-opacity:.45}
svg.timeline .lead{fill-opacity:.45}
svg.timeline .notice{fill-opacity:.8}
svg.timeline .when{fill:var(--ink);font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg.timeline a:hover .bar,svg.timeline a:focus .bar{stroke:#1f2328;stroke-width:1.5}
.s-scheduled{fill:#0072b2;background:#0072b2}
.s-rescheduled{fill:#cc79a7;background:#cc79a7}
.s-in_progress{fill:#e69f00;background:#e69f00}
.s-completed{fill:#009e73;background:#009e73}
.s-window_passed{fill:#56b4e9;background:#56b4e9}
.s-canceled{fill:#9ea7b0;background:#9ea7b0}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1.1rem;font-size:.82rem;color:var(--muted);margin:.4rem 0 .2rem;padding:0;list-style:none}
.legend .sw{display:inline-block;width:.85rem;height:.85rem;border-radius:2px;vertical-align:-.12rem;margin-right:.3rem}
.legend .sw.prev{border:1.5px dashed #6e7781}
.legend .sw.repeat{border:2.5px solid #1f2328;background:#fff}
.legend .sw.fo{background:#d55e00;clip-path:polygon(0 0,100% 0,50% 100%)}
.legend .sw.mark{background:#59636e;clip-path:polygon(50% 0,100% 50%,50% 100%,0 50%)}
.legend .sw.now{border-left:2px dashed var(--bad);width:.3rem;border-radius:0}
.legend .sw.lead{height:.2rem;width:1.2rem;vertical-align:.2rem;background:#0072b2;opacity:.55}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.2rem;margin:.8rem 0 1rem;padding:.8rem 1rem;background:var(--soft);border:1px solid var(--line);border-radius:6px}
dl.facts dt{font-weight:600;color:var(--muted)}
dl.facts dd{margin:0}
.state{display:inline-block;color:#fff;font-weight:700;font-size:.8rem;padding:0 .45rem;border-radius:3px;text-transform:uppercase;letter-spacing:.03em}
.state.s-window_passed,.state.s-rescheduled{color:#1f2328}
ol.steps{list-style:none;padding:0;margin:.5rem 0}
ol.steps li{margin:.4rem 0;padding:.45rem .6rem;border:1px solid var(--line);border-radius:6px;break-inside:avoid}
ol.steps li.done{background:#f0f8f4;border-color:#a7d8c1}
.step-head{display:flex;gap:.6rem;align-items:flex-start}
.step-head input{width:1.15rem;height:1.15rem;margin:.2rem 0 0;flex:none;accent-color:#1a7f37}
.step-head label{cursor:pointer}
.num{font-weight:700;font-variant-numeric:tabular-nums}
.owner{display:inline-block;font-size:.75rem;font-weight:700;border-radius:3px;padding:0 .4rem;margin-right:.2rem;vertical-align:.08em}
.owner.o-app{background:#ddf4ff;color:#0a3069}
.owner.o-infra{background:#fbefff;color:#6e2b8f}
.done-by{margin:.2rem 0 0 1.75rem;font-size:.82rem;color:#1a7f37}
.cmd{position:relative;margin:.4rem 0 .1rem 1.75rem}
pre{background:#f3f5f8;border:1px solid var(--line);border-radius:4px;padding:.5rem .7rem;margin:0;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.cmd pre{padding-right:4.5rem}
.cmd button{position:absolute;top:.3rem;right:.3rem;font:inherit;font-size:.75rem;padding:.05rem .5rem;border:1px solid #b7c0ca;border-radius:4px;background:#fff;cursor:pointer}
blockquote{border-left:4px solid var(--line);margin:.6rem 0;padding:.1rem 0 .1rem 1rem;color:var(--muted)}
#status{min-height:1.3em;margin:.25rem 0;font-size:.9rem;color:#1a7f37}
#status.failed{color:var(--bad)}
@media (max-width:50rem){form.filters{grid-template-columns:repeat(2,minmax(0,1fr))}}
@media print{
body{font-size:11pt}
header.bar,.screen-only,form.filters,#status,.cmd button{display:none}
main{max-width:none;padding:0}
a{color:inherit;text-decoration:none}
pre,.cmd pre{background:none;border:1px solid #999;padding-right:.7rem}
ol.steps li,ol.steps li.done{background:none;border-color:#999}
.step-head input,.state,.owner,.legend .sw,.drill{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.timeline-box,table.events tr{break-inside:avoid}
}
"#;

/// The runbook page's script: ticking a step posts it to the page's step address, and each
/// command gets a copy button. It is the only script of either page.
pub(super) const RUNBOOK_SCRIPT: &str = r#"
(function () {
  var main = document.querySelector("main");
  var status = document.getElementById("status");
  function say(text, failed) {
    status.textContent = text;
    status.className = failed ? "failed" : "";
  }
  var url = main.getAttribute("data-step-url");
  if (url) {
    main.addEventListener("change", function (ev) {
      var box = ev.target;
      var step = box.getAttribute("data-step");
      if (!step) return;
      if (!box.checked) {
        if (box.hasAttribute("data-done")) {
          box.checked = true;
          say("Step " + step + " is recorded as done; it stays done.");
        }
        return;
      }
      box.disabled = true;
      say("Recording step " + step + "…");
      fetch(url, {method: "POST", body: new URLSearchParams({step: step}), credentials: "same-origin"})
        .then(function (r) {
          if (!r.ok) throw new Error("the server answered " + r.status);
          box.setAttribute("data-done", "");
          box.closest("li").classList.add("done");
          say("Step " + step + " recorded as done.");
        })
        .catch(function (e) {
          box.checked = false;
          say("Step " + step + " was not recorded (" + e.message + "): tick it again.", true);
        })
        .finally(function () { box.disabled = false; });
    });
  }
  if (navigator.clipboard) {
    document.querySelectorAll(".cmd").forEach(function (cmd) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Copy";
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(cmd.querySelector("pre").textContent).then(
          function () { button.textContent = "Copied"; },
          function () { button.textContent = "Select to copy"; });
      });
      cmd.appendChild(button);
    });
  }
})();
"#;

/// The CSP source of `text`, by its SHA-256.
fn hash_source(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The `Content-Security-Policy` to send with both pages: nothing loads from anywhere, the one
/// stylesheet and the one script run by their hashes, the only image is the inline icon, the
/// script may post only to the page's own origin, and the filter form submits only there.
pub fn content_security_policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        format!(
            "default-src 'none'; style-src {}; script-src {}; img-src data:; connect-src 'self'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            hash_source(STYLE),
            hash_source(RUNBOOK_SCRIPT),
        )
    })
}

/// A link the router made, if it is one a page may point at: a path, a query, or an `http(s)`
/// address. Anything else (`javascript:`, `data:`) is not linked.
pub(super) fn safe_href(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    let allowed = (lower.starts_with('/') && !lower.starts_with("//"))
        || lower.starts_with('?')
        || lower.starts_with("https://")
        || lower.starts_with("http://");
    (allowed && !url.chars().any(char::is_control)).then_some(url)
}

/// `pairs` as an `application/x-www-form-urlencoded` query (without the `?`).
pub(super) fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    fn encode(out: &mut String, raw: &str) {
        for byte in raw.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    out.push(char::from(byte));
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode(&mut out, key);
        out.push('=');
        encode(&mut out, value);
    }
    out
}

/// A window in `zone`: `2026-06-25 19:00–20:00 UTC`, or only its start when it has no length
/// (an e-mail gives only the replacement time).
pub(super) fn window_text(zone: Zone, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    if end <= start {
        zone.format(start)
    } else {
        zone.format_window(start, end)
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
