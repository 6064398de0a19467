//! A real headless Chromium for the browser tests: [`Browser`] starts Debian's `chromedriver` on a
//! free port and a headless Chromium behind it, with the flags this machine needs (no background
//! networking: the sandbox has no internet), and offers the few things every browser test does:
//! wait for a page, read and click an element once it is there, and run axe-core on the page.
//!
//! A missing Chromium, ChromeDriver or axe-core is a loud failure, never a skipped test:
//! `./scripts/test` installs all three.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::wait::poll;
use crate::{artifacts_dir, free_port, workspace_root};

/// Where Debian installs the browser and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How a browser session is started.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Run page scripts (false: the page must work without JavaScript).
    pub javascript: bool,
    /// Window size in CSS pixels.
    pub window: (u32, u32),
    /// `Accept-Language` / UI language, e.g. "en-US".
    pub language: String,
    /// IANA zone the browser believes it is in (`TZ` of the browser process).
    pub time_zone: Option<String>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self {
            javascript: true,
            window: (1024, 900),
            language: "en-US".into(),
            time_zone: None,
        }
    }
}

/// A running chromedriver with one headless Chromium session.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts a browser with default options.
    pub async fn start() -> Browser {
        Self::start_with(BrowserOptions::default()).await
    }

    /// Starts a browser with `options`.
    pub async fn start_with(options: BrowserOptions) -> Browser {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: browser tests need Debian's chromium and chromium-driver (./scripts/test installs them)"
            );
        }
        let port = free_port();
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(tz) = &options.time_zone {
            // The browser inherits the driver's environment, and Chromium takes its zone from TZ.
            cmd.env("TZ", tz);
        }
        // A process group of its own: dropping the browser ends the driver and every Chromium
        // process it started, also when a test fails before closing it.
        cmd.process_group(0);
        let driver = cmd.spawn().expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--window-size={},{}", options.window.0, options.window.1),
            format!("--lang={}", options.language),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if !options.javascript {
            args.push("--blink-settings=scriptEnabled=false".into());
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": args,
                "prefs": {"intl.accept_languages": options.language},
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match fantoccini::ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("could not start a Chromium session through chromedriver: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Saves a screenshot of the current page as `test-artifacts/<name>.png` in the workspace.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Waits until the page's path starts with `prefix` (after a click that navigates), so that
    /// the next look at the page sees the new one. Panics with the URL it is stuck on after 30 s.
    pub async fn wait_for_path(&self, prefix: &str) {
        self.wait_for_page(prefix, |path, _| path.starts_with(prefix))
            .await;
    }

    /// Waits until the page's path and query (`/path?query`) contain `part` and that page has
    /// finished loading, like [`Browser::wait_for_path`] for a query.
    pub async fn wait_for_url(&self, part: &str) {
        self.wait_for_page(part, |path, query| {
            format!("{path}?{}", query.unwrap_or_default()).contains(part)
        })
        .await;
    }

    /// Waits (30 s at most) until the address bar satisfies `arrived` and the page has loaded.
    async fn wait_for_page(&self, what: &str, arrived: impl Fn(&str, Option<&str>) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = self.client.current_url().await.expect("current url");
            if arrived(url.path(), url.query()) {
                let ready = self
                    .client
                    .execute("return document.readyState", vec![])
                    .await
                    .ok();
                if ready.as_ref().and_then(|v| v.as_str()) == Some("complete") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the browser never reached {what}; it is at {url}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The element `css`, waiting (up to 30 s) for it to appear, as pages load on their own
    /// after a click.
    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    /// The text of the element `css`, once it is there.
    pub async fn text_of(&self, css: &str) -> String {
        self.element(css)
            .await
            .text()
            .await
            .expect("the element's text")
    }

    /// Waits (30 s at most) until the element `css` reads `want`, for a click that posts to the
    /// page's own address: the old page's element may be read, or go stale, while the answer loads.
    /// Panics with the last text seen.
    pub async fn wait_for_text(&self, css: &str, want: &str) {
        let seen = std::cell::RefCell::new(String::new());
        let read = poll(Duration::from_secs(30), || async {
            let text = self
                .client
                .find(Locator::Css(css))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            let done = text == want;
            *seen.borrow_mut() = text;
            done.then_some(())
        })
        .await;
        if read.is_none() {
            panic!(
                "{css} never read {want:?}; it last read {:?}",
                seen.borrow()
            );
        }
    }

    /// Clicks the element `css`, once it is there.
    pub async fn click(&self, css: &str) {
        self.element(css).await.click().await.expect("a click");
    }

    /// Types `text` into the element `css` (after what it holds), once it is there.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.element(css)
            .await
            .send_keys(text)
            .await
            .expect("typing");
    }

    /// How many elements `css` matches now.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
            .len()
    }

    /// Runs axe-core inside the page, open shadow roots included, and fails on any violation.
    /// axe-core comes from npm (`tests/browser/node_modules`, installed by `./scripts/test`), or
    /// from `GUIDANCE_AXE_JS`.
    pub async fn assert_accessible(&self, what: &str) {
        let path = std::env::var_os("GUIDANCE_AXE_JS").map_or_else(
            || workspace_root().join("tests/browser/node_modules/axe-core/axe.min.js"),
            PathBuf::from,
        );
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is missing at {} ({e}): run ./scripts/test, which runs `npm ci` in tests/browser",
                path.display()
            )
        });
        self.client
            .execute(&format!("{source}\n;return typeof axe;"), vec![])
            .await
            .expect("axe-core loads");
        let violations = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
             axe.run(document).then(
               r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target)}))),
               e => done([{id: 'axe-error', help: String(e)}]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        assert_eq!(
            violations,
            json!([]),
            "axe-core found accessibility violations on {what}"
        );
    }

    /// Closes the session and stops the driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group (see `start_with`): Chromium's processes outlive a killed driver.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}
