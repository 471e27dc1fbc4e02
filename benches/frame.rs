//! Dashboard frame time: every view drawn at 200×60 (and 80×24) into ratatui's TestBackend from
//! an app state built by a seeded scripted run, as the dashboard draws it. The budget is 5 ms a
//! frame. Run with `cargo bench --bench frame`.

use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use liveq::scenario::Scenario;
use liveq::tui::app::{App, View};
use liveq::tui::theme::Theme;
use liveq::tui::{draw, factory};
use liveq::worker::{LivePlan, Speed, scripted};

fn main() {
    let plan = LivePlan {
        scenario: Scenario::builtin_default(),
        policy: "bandit".into(),
        seed: 42,
        speed: Speed::Limited(10_000),
        paused: true,
        validation: None,
    };
    let snaps =
        scripted(plan, factory(Default::default()), 200_000, 2_500, &[]).expect("a scripted run");
    let theme = Theme {
        color: true,
        ascii: false,
    };
    let mut app = App::new(theme, Speed::Limited(10_000));
    for s in snaps {
        app.apply(s);
    }
    println!("dashboard frame time (TestBackend, 200,000 steps of history, mean of 200 frames)");
    for (w, h) in [(200u16, 60u16), (80, 24)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        for view in [View::Overview, View::Board, View::Inspector, View::Tuning] {
            app.view = view;
            for _ in 0..20 {
                terminal.draw(|f| draw::draw(f, &app)).expect("draw");
            }
            let frames = 200;
            let t = Instant::now();
            for _ in 0..frames {
                terminal.draw(|f| draw::draw(f, &app)).expect("draw");
            }
            let ms = t.elapsed().as_secs_f64() * 1000.0 / frames as f64;
            println!("{w}x{h} {view:<10?} {ms:.3} ms/frame");
        }
    }
}
