//! Drives the real binary in tmux, as a person would: start the dashboard, open the help, pause,
//! change a setting, quit; checks the screen text (capture-pane) and the exit status. Skips with
//! a message when tmux is not installed.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "dash"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "dash"];
        args.extend(keys);
        self.run(&args);
    }

    /// Waits until the screen contains `text`; panics with the screen after 15 s.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("`{text}` did not appear; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the screen no longer contains `text` (a key sent right after Escape could
    /// otherwise arrive with it as one Alt-key); panics with the screen after 15 s.
    fn wait_gone(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if !s.contains(text) {
                return;
            }
            if Instant::now() > deadline {
                panic!("`{text}` did not go away; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

#[test]
fn dashboard_in_tmux_help_pause_tune_quit() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("SKIPPED: tmux is not installed (apt-get install -y tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let status: PathBuf = dir.path().join("status");
    let bin = env!("CARGO_BIN_EXE_liveq");
    let tmux = Tmux {
        socket: format!("liveq-test-{}", std::process::id()),
    };
    let cmd = format!(
        "cd {dir:?} && LANG=C.UTF-8 {bin:?} --policy bandit; echo $? > {status:?}; sleep 30",
        dir = env!("CARGO_MANIFEST_DIR"),
    );
    tmux.run(&[
        "-u",
        "new-session",
        "-d",
        "-s",
        "dash",
        "-x",
        "100",
        "-y",
        "30",
        &cmd,
    ]);
    // The screen is drawn top to bottom: wait for the last of these texts to appear.
    let s = tmux.wait_for("no learner: policy bandit");
    assert!(s.contains("scenario default"), "{s}");
    assert!(s.contains("RUNNING"), "{s}");

    tmux.keys(&["?"]);
    tmux.wait_for("What am I looking at?");
    tmux.keys(&["Escape"]);
    tmux.wait_gone("What am I looking at?");
    tmux.keys(&["Space"]);
    tmux.wait_for("PAUSED");

    // Tuning: raise the bandit's exploration from 1.00 to 1.10.
    tmux.keys(&["4"]);
    tmux.wait_for("exploration");
    tmux.keys(&["+"]);
    tmux.wait_for("1.10");
    tmux.keys(&["1"]);
    let s = tmux.wait_for("exploration = 1.1");
    assert!(s.contains("PAUSED"), "{s}");

    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Ok(s) = std::fs::read_to_string(&status)
            && !s.trim().is_empty()
        {
            break s.trim().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the dashboard did not exit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(code, "0", "exit status");
    // The terminal is restored: the shell's screen is back (no alternate screen left over).
    let s = tmux.screen();
    assert!(!s.contains("RUNNING"), "{s}");
}
