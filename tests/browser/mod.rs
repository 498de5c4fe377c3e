//! A real headless Chromium driven through WebDriver (`chromedriver`, by
//! `fantoccini`): one browser per person in a test, each with a fresh
//! profile, at the front desk's 1366×768. Screenshots go under the build's
//! target directory (`dashboard-screenshots/`).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Chromium's flags on a shared, offline test machine.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--window-size=1366,768",
];

/// Where screenshots are written: `<target>/dashboard-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("dashboard-screenshots"))
        .unwrap_or_else(|| PathBuf::from("target/dashboard-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One browser.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A new headless Chromium, or `None` (reported by
    /// `prerequisites::chromium`, which fails under CI) without one.
    pub async fn start() -> Option<Browser> {
        let (chromium, chromedriver) = frontdesk::prerequisites::chromium()?;
        let port = free_port();
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver never listened");
            if let Some(status) = driver.try_wait().unwrap() {
                panic!("chromedriver exited: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium.display().to_string(), "args": args}),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        client.set_window_size(1366, 768).await.unwrap();
        Some(Browser {
            client,
            driver,
            _profile: profile,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// Waits until `condition` (a JavaScript expression) is true; false
    /// after `timeout`.
    pub async fn wait_for(&self, condition: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let script = format!("return !!({condition});");
        loop {
            if let Ok(Value::Bool(true)) = self.client.execute(&script, vec![]).await {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Clicks the element `css` names. The page re-renders parts of itself
    /// when an event arrives (the card after a note, say), so an element
    /// found a moment ago may have been replaced: it is found again.
    pub async fn click(&self, css: &str) {
        for attempt in 0.. {
            let element = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"));
            match element.click().await {
                Ok(()) => return,
                Err(e) if attempt < 40 && e.to_string().contains("stale element") => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("clicking {css}: {e}"),
            }
        }
    }

    /// Chooses `value` in the `<select>` at `css`, finding it again when the
    /// page re-rendered it in between (a task's card re-renders on its events).
    pub async fn select(&self, css: &str, value: &str) {
        for attempt in 0.. {
            let element = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"));
            match element.select_by_value(value).await {
                Ok(_) => return,
                Err(e) if attempt < 40 && e.to_string().contains("stale element") => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("choosing {value} in {css}: {e}"),
            }
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    /// Writes a PNG of the viewport as `<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Signs in on the sign-in page with `token`.
    pub async fn sign_in(&self, base_url: &str, token: &str) {
        self.goto(&format!("{base_url}/")).await;
        self.type_into("#token", token).await;
        self.click("form[action='/session'] button[type=submit]")
            .await;
        assert!(
            self.wait_for("location.pathname === '/queue'", Duration::from_secs(20))
                .await,
            "signing in did not reach the queue: {}",
            self.path().await
        );
    }

    /// The page's first-load figures: bytes of the document, styles and
    /// scripts (uncompressed), and the first contentful paint.
    pub async fn load_figures(&self) -> (u64, Option<f64>) {
        let v = self
            .js(
                "const nav = performance.getEntriesByType('navigation')[0];
                 let bytes = nav ? nav.decodedBodySize : 0;
                 for (const r of performance.getEntriesByType('resource')) {
                   if (r.initiatorType === 'link' || r.initiatorType === 'script' || r.initiatorType === 'css') {
                     bytes += r.decodedBodySize;
                   }
                 }
                 const paint = performance.getEntriesByName('first-contentful-paint')[0];
                 return [bytes, paint ? paint.startTime : null];",
                vec![],
            )
            .await;
        (v[0].as_u64().unwrap_or(0), v[1].as_f64())
    }

    /// Ends the session and the driver.
    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
