//! Headless Chromium for checking pages as a browser shows them: load a page, read what went wrong
//! (console errors, uncaught exceptions, failed or refused requests, requests that left the page's
//! origin), type into a form, click, run a script in the page, and take a PNG screenshot.
//!
//! Chromium is Debian's `chromium` (`.ci/run` installs it; `CACHEWATCH_CHROMIUM` names another
//! binary). It is driven with the Chrome DevTools Protocol over `--remote-debugging-pipe`: JSON
//! messages, each ended by a NUL byte, on the browser's file descriptors 3 (commands) and 4
//! (answers and events). The browser therefore listens on no port at all, and the harness needs
//! nothing beyond the standard library and `serde_json`: no driver, no download, no network.
//!
//! The browser starts with a fresh profile in a temporary directory and with everything that would
//! reach out disabled (background networking, component updates, sync); a proxy that does not
//! exist takes every request that is not for the loopback interface, so no page can reach the
//! network either. Every wait has a deadline, and dropping the [`Browser`] closes it (and kills it
//! if it does not close), so a failing test leaves no browser behind.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long any one step (a command, a page load, a condition) may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The window every page is shown in, in CSS pixels.
pub const VIEWPORT: (u32, u32) = (1280, 900);

/// What went wrong while driving the browser.
#[derive(Debug)]
pub enum BrowserError {
    /// The browser could not be started.
    Launch(String, io::Error),
    /// The browser answered a command with an error, or closed.
    Protocol(String),
    /// Something did not happen in time.
    Timeout(String),
    /// A script run in the page threw.
    Script(String),
    /// A file could not be written.
    Io(PathBuf, io::Error),
}

impl fmt::Display for BrowserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrowserError::Launch(what, e) => write!(
                f,
                "could not start {what}: {e} (install Debian's chromium, as .ci/run does, or set CACHEWATCH_CHROMIUM)"
            ),
            BrowserError::Protocol(what) => write!(f, "browser: {what}"),
            BrowserError::Timeout(what) => {
                write!(f, "timed out after {STEP_TIMEOUT:?} waiting for {what}")
            }
            BrowserError::Script(what) => write!(f, "script in the page threw: {what}"),
            BrowserError::Io(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for BrowserError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BrowserError::Launch(_, e) | BrowserError::Io(_, e) => Some(e),
            _ => None,
        }
    }
}

/// The flags Chromium runs with. Without the background-networking ones it tries, at every
/// start, to reach Google's hosts.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",
    "--remote-debugging-pipe",
];

/// The browser's side of the pipe, and what it has said so far.
struct Connection {
    commands: ChildStdin,
    incoming: Receiver<Value>,
    next_id: u64,
    /// Every event received, in order (tests are short: nothing is dropped).
    events: Vec<Value>,
}

impl Connection {
    /// Takes the next message from the browser, keeping events; `Ok(None)` on timeout.
    fn receive(&mut self, deadline: Instant) -> Result<Option<Value>, BrowserError> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(message) => {
                if message.get("method").is_some() {
                    self.events.push(message.clone());
                }
                Ok(Some(message))
            }
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(BrowserError::Protocol(
                "the browser closed its pipe (it exited)".into(),
            )),
        }
    }

    /// Sends a command and waits for its answer.
    fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, BrowserError> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .and_then(|()| self.commands.flush())
            .map_err(|e| BrowserError::Protocol(format!("sending {method}: {e}")))?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let Some(message) = self.receive(deadline)? else {
                return Err(BrowserError::Timeout(format!("the answer to {method}")));
            };
            if message.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(error) = message.get("error") {
                    return Err(BrowserError::Protocol(format!("{method}: {error}")));
                }
                return Ok(message.get("result").cloned().unwrap_or(Value::Null));
            }
        }
    }

    /// Waits for an event `method` of `session` received after the first `after` events.
    fn wait_event(
        &mut self,
        session: &str,
        method: &str,
        after: usize,
    ) -> Result<Value, BrowserError> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut checked = after;
        loop {
            if let Some(found) = self.events[checked..].iter().find(|e| {
                e["method"] == method && e.get("sessionId").and_then(Value::as_str) == Some(session)
            }) {
                return Ok(found.clone());
            }
            checked = self.events.len();
            if self.receive(deadline)?.is_none() {
                return Err(BrowserError::Timeout(format!("the event {method}")));
            }
        }
    }

    /// Takes in what the browser has sent so far, without waiting.
    fn drain(&mut self) -> Result<(), BrowserError> {
        while self.receive(Instant::now())?.is_some() {}
        Ok(())
    }
}

/// A headless Chromium, closed when dropped.
pub struct Browser {
    child: Child,
    connection: Mutex<Connection>,
    profile: TempDir,
}

impl fmt::Debug for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Browser")
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

/// The Chromium binary: `CACHEWATCH_CHROMIUM`, else Debian's.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CACHEWATCH_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

impl Browser {
    /// Starts Chromium headless with a fresh profile.
    pub fn launch() -> Result<Self, BrowserError> {
        let binary = chromium_path();
        let profile = tempfile::Builder::new()
            .prefix("cachewatch-chromium-")
            .tempdir()
            .map_err(|e| BrowserError::Launch("a profile directory".into(), e))?;
        let log = std::fs::File::create(profile.path().join("chromium.log"))
            .map_err(|e| BrowserError::Launch("the browser's log".into(), e))?;
        // The pipe is the browser's fds 3 and 4: the shell moves our stdin and stdout there, then
        // becomes the browser.
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(&binary)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| BrowserError::Launch(binary.display().to_string(), e))?;
        let commands = child.stdin.take().expect("stdin is piped");
        let mut answers = child.stdout.take().expect("stdout is piped");
        let (sender, incoming) = channel();
        thread::spawn(move || {
            let mut pending = Vec::new();
            let mut chunk = [0u8; 64 * 1024];
            loop {
                let n = match answers.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                pending.extend_from_slice(&chunk[..n]);
                while let Some(end) = pending.iter().position(|&b| b == 0) {
                    let message: Vec<u8> = pending.drain(..=end).collect();
                    let Ok(value) = serde_json::from_slice::<Value>(&message[..end]) else {
                        continue;
                    };
                    if sender.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        let browser = Browser {
            child,
            connection: Mutex::new(Connection {
                commands,
                incoming,
                next_id: 0,
                events: Vec::new(),
            }),
            profile,
        };
        browser
            .call(None, "Browser.getVersion", json!({}))
            .map_err(|e| {
                let log = std::fs::read_to_string(browser.profile.path().join("chromium.log"))
                    .unwrap_or_default();
                BrowserError::Protocol(format!("{e}; the browser's log ends:\n{}", tail(&log, 20)))
            })?;
        Ok(browser)
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, BrowserError> {
        self.connection().call(session, method, params)
    }

    /// Opens `url` in a new tab of [`VIEWPORT`]'s size and waits for it to load. The page's
    /// origin is the one every request of the tab must stay on.
    pub fn open(&self, url: &str) -> Result<Page<'_>, BrowserError> {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}))?;
        let target_id = target["targetId"].as_str().unwrap_or_default().to_owned();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        )?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or_else(|| BrowserError::Protocol(format!("no session in {attached}")))?
            .to_owned();
        let page = Page {
            browser: self,
            session,
            origin: origin_of(url),
        };
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            page.call(domain, json!({}))?;
        }
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        page.goto(url)?;
        Ok(page)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call(None, "Browser.close", json!({}));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `scheme://host:port` of `url`.
fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A tab of the browser.
pub struct Page<'b> {
    browser: &'b Browser,
    session: String,
    origin: String,
}

impl fmt::Debug for Page<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Page<'_> {
    fn call(&self, method: &str, params: Value) -> Result<Value, BrowserError> {
        self.browser.call(Some(&self.session), method, params)
    }

    fn events_seen(&self) -> usize {
        self.browser.connection().events.len()
    }

    fn wait_for_load(&self, after: usize) -> Result<(), BrowserError> {
        self.browser
            .connection()
            .wait_event(&self.session, "Page.loadEventFired", after)
            .map(drop)
    }

    /// Loads `url` and waits for its `load` event.
    pub fn goto(&self, url: &str) -> Result<(), BrowserError> {
        let mark = self.events_seen();
        let navigated = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(error) = navigated.get("errorText").and_then(Value::as_str) {
            return Err(BrowserError::Protocol(format!("loading {url}: {error}")));
        }
        self.wait_for_load(mark)
    }

    /// Runs `expression` in the page (awaiting it if it is a promise) and returns its value.
    pub fn eval(&self, expression: &str) -> Result<Value, BrowserError> {
        let answer = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(details) = answer.get("exceptionDetails") {
            let text = details["exception"]["description"]
                .as_str()
                .or(details["text"].as_str())
                .unwrap_or("an exception");
            return Err(BrowserError::Script(format!("{text} (in `{expression}`)")));
        }
        Ok(answer["result"]
            .get("value")
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// Waits until `condition` (a script expression) is true in the page.
    pub fn wait_until(&self, condition: &str) -> Result<(), BrowserError> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        while Instant::now() < deadline {
            if self.eval(condition)? == Value::Bool(true) {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(50));
        }
        Err(BrowserError::Timeout(format!("`{condition}`")))
    }

    /// The page's address now.
    pub fn url(&self) -> Result<String, BrowserError> {
        Ok(self
            .eval("location.href")?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// A script expression for the element `selector` picks, throwing when there is none.
    fn element(selector: &str) -> String {
        let quoted = Value::from(selector).to_string();
        format!(
            "(() => {{ const e = document.querySelector({quoted}); if (!e) throw new Error('no element matches ' + {quoted}); return e; }})()"
        )
    }

    /// Clicks the element `selector` picks with the mouse, at its centre, as a person would.
    pub fn click(&self, selector: &str) -> Result<(), BrowserError> {
        let centre = self.eval(&format!(
            "(() => {{ const e = {}; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            Self::element(selector)
        ))?;
        let (x, y) = (centre[0].as_f64(), centre[1].as_f64());
        let (Some(x), Some(y)) = (x, y) else {
            return Err(BrowserError::Script(format!("{selector} has no position")));
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )?;
        }
        Ok(())
    }

    /// Clicks `selector` (a submit button, a link) and waits for the page it leads to to load.
    pub fn click_and_wait_for_load(&self, selector: &str) -> Result<(), BrowserError> {
        let mark = self.events_seen();
        self.click(selector)?;
        self.wait_for_load(mark)
    }

    /// Types `text` into the field `selector` picks, replacing what it held.
    pub fn fill(&self, selector: &str, text: &str) -> Result<(), BrowserError> {
        self.eval(&format!(
            "(() => {{ const e = {}; e.focus(); e.value = ''; }})()",
            Self::element(selector)
        ))?;
        if !text.is_empty() {
            self.call("Input.insertText", json!({"text": text}))?;
        }
        Ok(())
    }

    /// Chooses the option of value `value` in the `select` that `selector` picks.
    pub fn select(&self, selector: &str, value: &str) -> Result<(), BrowserError> {
        let quoted = Value::from(value).to_string();
        let chosen = self.eval(&format!(
            "(() => {{ const e = {}; e.value = {quoted}; e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value === {quoted}; }})()",
            Self::element(selector)
        ))?;
        if chosen != Value::Bool(true) {
            return Err(BrowserError::Script(format!(
                "{selector} has no option {value:?}"
            )));
        }
        Ok(())
    }

    /// Shows the page as printed (`print`) or on a screen (`screen`).
    pub fn emulate_media(&self, media: &str) -> Result<(), BrowserError> {
        self.call("Emulation.setEmulatedMedia", json!({"media": media}))
            .map(drop)
    }

    /// What went wrong in this tab so far, one line each: console errors, uncaught exceptions,
    /// errors the browser logged (refused by the page's policy, failed to load), failed requests,
    /// answers with an error status, and requests outside the page's origin.
    pub fn problems(&self) -> Result<Vec<String>, BrowserError> {
        let mut connection = self.browser.connection();
        connection.drain()?;
        let mut urls: HashMap<&str, &str> = HashMap::new();
        let mut answered: HashSet<&str> = HashSet::new();
        let mut problems = Vec::new();
        for event in connection
            .events
            .iter()
            .filter(|e| e.get("sessionId").and_then(Value::as_str) == Some(&self.session))
        {
            let params = &event["params"];
            match event["method"].as_str().unwrap_or_default() {
                "Runtime.consoleAPICalled"
                    if matches!(params["type"].as_str(), Some("error" | "assert")) =>
                {
                    let args: Vec<String> = params["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| match &a["value"] {
                            Value::String(s) => s.clone(),
                            Value::Null => a["description"].as_str().unwrap_or("?").to_owned(),
                            other => other.to_string(),
                        })
                        .collect();
                    problems.push(format!("console.error: {}", args.join(" ")));
                }
                "Runtime.exceptionThrown" => {
                    let details = &params["exceptionDetails"];
                    let text = details["exception"]["description"]
                        .as_str()
                        .or(details["text"].as_str())
                        .unwrap_or("an exception");
                    problems.push(format!("uncaught: {text}"));
                }
                "Log.entryAdded" if params["entry"]["level"] == "error" => {
                    let entry = &params["entry"];
                    problems.push(format!(
                        "{} error: {} {}",
                        entry["source"].as_str().unwrap_or("browser"),
                        entry["text"].as_str().unwrap_or_default(),
                        entry["url"].as_str().unwrap_or_default()
                    ));
                }
                "Network.requestWillBeSent" => {
                    let url = params["request"]["url"].as_str().unwrap_or_default();
                    urls.insert(params["requestId"].as_str().unwrap_or_default(), url);
                    let local = url.starts_with(&format!("{}/", self.origin))
                        || url == self.origin
                        || ["data:", "about:", "blob:"]
                            .iter()
                            .any(|s| url.starts_with(s));
                    if !local {
                        problems.push(format!("request outside {}: {url}", self.origin));
                    }
                }
                "Network.responseReceived" => {
                    answered.insert(params["requestId"].as_str().unwrap_or_default());
                    let status = params["response"]["status"].as_u64().unwrap_or(0);
                    if status >= 400 {
                        problems.push(format!(
                            "HTTP {status} for {}",
                            params["response"]["url"].as_str().unwrap_or_default()
                        ));
                    }
                }
                "Network.loadingFailed" => {
                    let id = params["requestId"].as_str().unwrap_or_default();
                    // A body nobody reads (a `fetch` whose answer is only checked for its
                    // status) is canceled once the answer has come: that is no failure.
                    if params["canceled"] == true && answered.contains(id) {
                        continue;
                    }
                    problems.push(format!(
                        "request failed: {} ({})",
                        urls.get(id).copied().unwrap_or("?"),
                        params["errorText"].as_str().unwrap_or_default()
                    ));
                }
                "Page.javascriptDialogOpening" => {
                    problems.push(format!(
                        "dialog opened: {}",
                        params["message"].as_str().unwrap_or_default()
                    ));
                }
                _ => {}
            }
        }
        Ok(problems)
    }

    /// Saves a PNG of the whole page (not only the window) at `path`, and returns its size in
    /// pixels.
    pub fn screenshot(&self, path: &Path) -> Result<(u32, u32), BrowserError> {
        let metrics = self.call("Page.getLayoutMetrics", json!({}))?;
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().unwrap_or(f64::from(VIEWPORT.0));
        let height = size["height"].as_f64().unwrap_or(f64::from(VIEWPORT.1));
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": width.ceil(), "height": height.ceil(), "scale": 1}
            }),
        )?;
        let png = STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| BrowserError::Protocol(format!("the screenshot is not base64: {e}")))?;
        let dimensions = png_size(&png)
            .ok_or_else(|| BrowserError::Protocol("the screenshot is not a PNG".into()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| BrowserError::Io(dir.to_owned(), e))?;
        }
        std::fs::write(path, &png).map_err(|e| BrowserError::Io(path.to_owned(), e))?;
        Ok(dimensions)
    }
}

/// The width and height of a PNG, from its header.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 24 || &png[..8] != SIGNATURE || &png[12..16] != b"IHDR" {
        return None;
    }
    let read = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    Some((read(16), read(20)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/events?x=1"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(
            origin_of("http://127.0.0.1:8080?x"),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn png_sizes_come_from_the_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&1280u32.to_be_bytes());
        png.extend_from_slice(&900u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((1280, 900)));
        assert_eq!(png_size(b"GIF89a"), None);
    }
}
