//! Snapshot tests of every dashboard view (ratatui's TestBackend + insta), drawn from an app
//! built from snapshots of a seeded, scripted worker run; key → command mapping; merging of
//! snapshots when the UI lags; the "too small" message.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use liveq::scenario::Scenario;
use liveq::tui::app::{App, Effect, Overlay, View};
use liveq::tui::keys::{Action, map_key};
use liveq::tui::theme::Theme;
use liveq::tui::{draw, factory};
use liveq::worker::{Command, LivePlan, Reference, Snapshot, Speed, scripted};

const COLOR: Theme = Theme {
    color: true,
    ascii: false,
};

fn plan(policy: &str) -> LivePlan {
    LivePlan {
        scenario: Scenario::builtin_default(),
        policy: policy.into(),
        seed: 42,
        speed: Speed::Limited(10_000),
        paused: true,
        validation: None,
    }
}

/// 60,000 steps of bandit with a tuning change at 30,000, in snapshots every 2,500 steps.
fn snapshots(policy: &str) -> Vec<Snapshot> {
    let script = [(
        30_000,
        Command::SetHyper {
            name: "reward.gift".into(),
            value: 8.0,
        },
    )];
    scripted(
        plan(policy),
        factory(Default::default()),
        60_000,
        2_500,
        &script,
    )
    .expect("a scripted run")
}

fn app_from(snaps: Vec<Snapshot>, theme: Theme) -> App {
    let mut app = App::new(theme, Speed::Limited(10_000));
    for s in snaps {
        app.apply(s);
    }
    // Fixed reference levels: deterministic and instant.
    app.add_reference(Ok(Reference {
        policy: "popular".into(),
        steps: 100_000,
        reward_per_step: 1.02,
    }));
    app.add_reference(Ok(Reference {
        policy: "myopic-oracle".into(),
        steps: 100_000,
        reward_per_step: 2.32,
    }));
    app
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw::draw(f, app)).unwrap();
    terminal.backend().to_string()
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn overview_view() {
    let app = app_from(snapshots("bandit"), COLOR);
    let screen = render(&app, 100, 30);
    assert!(screen.contains("no learner: policy bandit"), "{screen}");
    assert!(screen.contains("popular 1.02"), "{screen}");
    assert!(
        screen.contains("reward.gift = 8"),
        "the tuning change is logged: {screen}"
    );
    insta::assert_snapshot!("overview_100x30", screen);
    insta::assert_snapshot!("overview_80x24", render(&app, 80, 24));
}

#[test]
fn overview_in_ascii_without_colour() {
    let app = app_from(
        snapshots("bandit"),
        Theme {
            color: false,
            ascii: true,
        },
    );
    let screen = render(&app, 100, 30);
    assert!(screen.is_ascii(), "{screen}");
    insta::assert_snapshot!("overview_ascii", screen);
}

#[test]
fn board_view() {
    let mut app = app_from(snapshots("bandit"), COLOR);
    app.view = View::Board;
    let screen = render(&app, 100, 30);
    assert!(screen.contains("Live now"), "{screen}");
    insta::assert_snapshot!("board_100x30", screen);
    insta::assert_snapshot!("board_120x30", render(&app, 120, 30));
}

#[test]
fn inspector_view() {
    let mut app = app_from(snapshots("bandit"), COLOR);
    app.view = View::Inspector;
    let screen = render(&app, 100, 30);
    assert!(screen.contains("UCB index"), "{screen}");
    assert!(screen.contains("hidden"), "{screen}");
    insta::assert_snapshot!("inspector_100x30", screen);
    insta::assert_snapshot!("inspector_80x24", render(&app, 80, 24));
}

#[test]
fn inspector_of_a_policy_without_scores_says_n_a() {
    let mut app = app_from(snapshots("myopic-oracle"), COLOR);
    app.view = View::Inspector;
    let screen = render(&app, 100, 30);
    assert!(screen.contains("n/a"), "{screen}");
    assert!(
        screen.contains("no scores: policy myopic-oracle"),
        "{screen}"
    );
}

#[test]
fn tuning_view() {
    let mut app = app_from(snapshots("bandit"), COLOR);
    app.view = View::Tuning;
    let screen = render(&app, 100, 30);
    assert!(screen.contains("exploration"), "{screen}");
    insta::assert_snapshot!("tuning_100x30", screen);
}

#[test]
fn tuning_of_a_policy_without_hyperparameters() {
    let mut app = app_from(snapshots("popular"), COLOR);
    app.view = View::Tuning;
    let screen = render(&app, 100, 30);
    assert!(
        screen.contains("policy popular has no hyperparameters"),
        "{screen}"
    );
}

#[test]
fn help_and_picker_overlays() {
    let mut app = app_from(snapshots("bandit"), COLOR);
    app.handle(Action::ToggleHelp);
    let screen = render(&app, 100, 30);
    assert!(screen.contains("What am I looking at?"), "{screen}");
    insta::assert_snapshot!("help_100x30", screen);
    app.handle(Action::CloseOverlay);
    app.handle(Action::OpenPicker);
    let screen = render(&app, 100, 30);
    assert!(screen.contains("prime_time"), "{screen}");
    insta::assert_snapshot!("picker_100x30", screen);
}

#[test]
fn a_tiny_terminal_shows_too_small() {
    let app = app_from(snapshots("bandit"), COLOR);
    for (w, h) in [(40, 10), (1, 1), (59, 30), (100, 17)] {
        let screen = render(&app, w, h);
        assert!(screen.contains("too small") || w < 12, "{w}x{h}: {screen}");
    }
    // Sizes from the minimum up draw without panicking.
    for (w, h) in [(60, 18), (80, 24), (200, 60)] {
        for v in View::ALL {
            let mut app = app_from(snapshots("bandit"), COLOR);
            app.view = v;
            let screen = render(&app, w, h);
            assert!(!screen.contains("too small"), "{w}x{h}");
        }
    }
}

#[test]
fn keys_map_to_commands() {
    let mut app = app_from(snapshots("bandit"), COLOR);
    app.paused = false;
    let press = |app: &mut App, k: KeyEvent| -> Vec<Effect> {
        map_key(k, app.overlay)
            .map(|a| app.handle(a))
            .unwrap_or_default()
    };
    assert_eq!(press(&mut app, key(' ')), [Effect::Send(Command::Pause)]);
    assert_eq!(press(&mut app, key('.')), [Effect::Send(Command::StepOnce)]);
    assert_eq!(press(&mut app, key(' ')), [Effect::Send(Command::Resume)]);
    assert_eq!(press(&mut app, key('.')), [], "`.` only steps while paused");
    assert_eq!(
        press(&mut app, key('>')),
        [Effect::Send(Command::SetSpeed(Speed::Full))]
    );
    assert_eq!(press(&mut app, key('>')), [], "already at full speed");
    assert_eq!(
        press(&mut app, key('<')),
        [Effect::Send(Command::SetSpeed(Speed::Limited(10_000)))]
    );
    assert_eq!(
        press(&mut app, key('r')),
        [Effect::Send(Command::ResetAgent)]
    );
    assert_eq!(
        press(&mut app, key('s')),
        [Effect::Send(Command::SaveCheckpoint)]
    );
    // Tuning: the first row is the bandit's exploration (1.0 in the default scenario).
    press(&mut app, key('4'));
    assert_eq!(app.view, View::Tuning);
    assert_eq!(
        press(&mut app, key('+')),
        [Effect::Send(Command::SetHyper {
            name: "exploration".into(),
            value: 1.1
        })]
    );
    press(&mut app, KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
    assert_eq!(
        press(&mut app, KeyEvent::new(KeyCode::Left, KeyModifiers::NONE)),
        [Effect::Send(Command::SetHyper {
            name: "reward.watch_minute".into(),
            value: 0.05
        })]
    );
    // Zoom, views, overlays.
    let zoom = app.zoom;
    press(&mut app, key('z'));
    assert_eq!(app.zoom, zoom - 1);
    press(&mut app, key('Z'));
    assert_eq!(app.zoom, zoom);
    press(&mut app, KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(app.view, View::Overview);
    press(&mut app, key('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    assert_eq!(
        press(&mut app, key(' ')),
        [],
        "keys under an overlay do nothing"
    );
    press(&mut app, KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(app.overlay, None);
    assert_eq!(press(&mut app, key('q')), [Effect::Quit]);
    assert_eq!(
        map_key(
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            None
        ),
        Some(Action::Quit)
    );
}

#[test]
fn picker_launches_a_bundled_scenario_and_reports_a_broken_file() {
    let mut app = app_from(snapshots("bandit"), COLOR);
    app.handle(Action::OpenPicker);
    app.handle(Action::Down);
    let effects = app.handle(Action::Enter);
    match effects.as_slice() {
        [Effect::Launch(s, policy)] => {
            assert_eq!(s.name(), "prime_time");
            assert_eq!(policy, app.picker.policy_name());
        }
        other => panic!("{other:?}"),
    }
    // A file with errors: the picker shows them and nothing is launched.
    app.handle(Action::OpenPicker);
    app.picker.entries.push(liveq::tui::app::PickerEntry {
        name: "broken".into(),
        description: String::new(),
        source: liveq::tui::app::Source::File("tests/fixtures/invalid/probability.toml".into()),
    });
    app.picker.selected = app.picker.entries.len() - 1;
    assert_eq!(app.handle(Action::Enter), []);
    assert_eq!(app.overlay, Some(Overlay::Picker));
    let err = app.picker.error.clone().expect("an error is shown");
    assert!(err.contains("probability.toml"), "{err}");
    let screen = render(&app, 100, 30);
    assert!(screen.contains("This scenario has errors"), "{screen}");
}

#[test]
fn lagging_ui_merges_snapshots_into_the_same_state() {
    let snaps = snapshots("bandit");
    // One app applies every snapshot; the other gets them in lagging batches, merged.
    let a = app_from(snaps.clone(), COLOR);
    let mut b = App::new(COLOR, Speed::Limited(10_000));
    for chunk in snaps.chunks(7) {
        b.apply_all(chunk.to_vec());
    }
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.markers, b.markers);
    assert_eq!(a.snap.step, b.snap.step);
    assert_eq!(a.log.len(), b.log.len());
    assert!(b.merged > 0);
}

#[test]
fn a_worker_failure_is_shown() {
    let mut app = app_from(snapshots("bandit"), COLOR);
    app.worker_died("boom at act".into());
    let screen = render(&app, 100, 30);
    assert!(
        screen.contains("The worker stopped: boom at act"),
        "{screen}"
    );
    assert!(screen.contains("FAILED"), "{screen}");
}

#[test]
fn a_pause_shows_at_once_and_an_older_snapshot_does_not_undo_it() {
    let snaps = snapshots("bandit");
    let mut running = snaps.last().unwrap().clone();
    running.paused = false;
    let mut app = app_from(snaps, COLOR);
    app.apply(running.clone());
    assert!(render(&app, 120, 36).contains("RUNNING"));
    let effects = map_key(key(' '), app.overlay)
        .map(|a| app.handle(a))
        .unwrap_or_default();
    assert_eq!(effects, [Effect::Send(Command::Pause)]);
    // On screen before the worker has answered...
    assert!(render(&app, 120, 36).contains("PAUSED"));
    // ...and a snapshot the worker sent before it saw the pause does not undo it.
    app.apply(running.clone());
    assert!(render(&app, 120, 36).contains("PAUSED"));
    let mut paused = running.clone();
    paused.paused = true;
    app.apply(paused);
    assert!(render(&app, 120, 36).contains("PAUSED"));
    // Once confirmed, the worker's state is shown again as it comes.
    app.apply(running);
    assert!(render(&app, 120, 36).contains("RUNNING"));
}

/// Quitting asks first when the learner trained since its last checkpoint: `n` stays, `s` saves
/// then quits (the worker takes the save before the stop), and after a save `q` quits at once.
#[test]
fn quitting_with_unsaved_learning_asks_first() {
    use liveq::agent::AgentStats;
    use liveq::worker::{Event, EventKind, StatsPoint};
    let learner_at = |updates: u64| {
        let mut s = Snapshot::default();
        s.stats.push(StatsPoint {
            step: updates * 4,
            stats: AgentStats {
                updates,
                ..AgentStats::default()
            },
        });
        s
    };
    let mut app = App::new(Theme::detect(true), Speed::Limited(10_000));
    app.apply(learner_at(500));
    let press = |app: &mut App, c: char| -> Vec<Effect> {
        map_key(
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            app.overlay,
        )
        .map(|a| app.handle(a))
        .unwrap_or_default()
    };
    assert_eq!(press(&mut app, 'q'), [], "asks instead of quitting");
    assert_eq!(app.overlay, Some(Overlay::ConfirmQuit));
    let screen = render(&app, 100, 30);
    assert!(
        screen.contains("500 updates since its last checkpoint"),
        "{screen}"
    );
    assert_eq!(press(&mut app, 'n'), []);
    assert_eq!(app.overlay, None);
    assert!(!app.quit);
    press(&mut app, 'q');
    assert_eq!(
        press(&mut app, 's'),
        [Effect::Send(Command::SaveCheckpoint), Effect::Quit]
    );
    // Once saved, quitting needs no question.
    let mut app = App::new(Theme::detect(true), Speed::Limited(10_000));
    let mut saved = learner_at(800);
    saved.events.push(Event {
        step: 3_200,
        time: Default::default(),
        kind: EventKind::Saved,
        text: "checkpoint saved to checkpoints/x".into(),
    });
    app.apply(saved);
    assert_eq!(app.unsaved_updates(), 0);
    assert_eq!(press(&mut app, 'q'), [Effect::Quit]);
    // A policy that does not learn never asks.
    let mut app = App::new(Theme::detect(true), Speed::Limited(10_000));
    app.apply(Snapshot::default());
    assert_eq!(press(&mut app, 'q'), [Effect::Quit]);
}

/// In the picker, `/` types a path (a file or a bundled name) and left/right choose the
/// policy; Enter launches that scenario with that policy; Esc returns to the list.
#[test]
fn picker_takes_a_typed_path_and_a_policy() {
    use liveq::tui::keys::{Place, map_key_at};
    let mut app = app_from(snapshots("bandit"), COLOR);
    app.picker.set_policy("bandit");
    let press = |app: &mut App, code: KeyCode| -> Vec<Effect> {
        let place = Place::at(app.overlay, app.picker.typed.is_some());
        map_key_at(KeyEvent::new(code, KeyModifiers::NONE), place)
            .map(|a| app.handle(a))
            .unwrap_or_default()
    };
    press(&mut app, KeyCode::Char('o'));
    assert_eq!(app.overlay, Some(Overlay::Picker));
    press(&mut app, KeyCode::Right);
    let chosen = app.picker.policy_name();
    assert_ne!(chosen, "bandit");
    press(&mut app, KeyCode::Char('/'));
    // Every character is text now, `q` and `o` included.
    let path = "tests/fixtures/valid/learnable.toml";
    for c in format!("{path}x").chars() {
        assert_eq!(press(&mut app, KeyCode::Char(c)), []);
    }
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.picker.typed.as_deref(), Some(path));
    let screen = render(&app, 100, 30);
    assert!(screen.contains(path) && screen.contains(chosen), "{screen}");
    match press(&mut app, KeyCode::Enter).as_slice() {
        [Effect::Launch(s, policy)] => {
            assert_eq!(s.origin, path);
            assert_eq!(policy, chosen);
        }
        other => panic!("{other:?}"),
    }
    // A typo is shown and nothing launches; Esc leaves the path field, then the picker.
    press(&mut app, KeyCode::Char('o'));
    press(&mut app, KeyCode::Char('/'));
    for c in "no/such.toml".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert_eq!(press(&mut app, KeyCode::Enter), []);
    assert!(
        app.picker
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("no/such.toml")
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.picker.typed, None);
    assert_eq!(app.overlay, Some(Overlay::Picker));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, None);
}

/// A feed: 20,000 steps of bandit on `feed` (slates of six).
fn feed_app() -> App {
    let plan = LivePlan {
        scenario: Scenario::load("feed").unwrap(),
        policy: "bandit".into(),
        seed: 5,
        speed: Speed::Limited(10_000),
        paused: true,
        validation: None,
    };
    let snaps =
        scripted(plan, factory(Default::default()), 20_000, 2_500, &[]).expect("a scripted run");
    app_from(snaps, COLOR)
}

#[test]
fn the_inspector_shows_a_feed_slate_by_position_and_the_tuning_view_its_reranking() {
    let mut app = feed_app();
    app.view = View::Inspector;
    let screen = render(&app, 100, 30);
    assert!(screen.contains("slate of 6"), "{screen}");
    assert!(screen.contains("pick"), "{screen}");
    assert!(screen.contains("look"), "{screen}");
    assert!(screen.contains("position"), "{screen}");
    // Positions 1 to 6 head the list, in order, one per line.
    let lines: Vec<&str> = screen.lines().collect();
    let line_of = |p: usize| {
        lines
            .iter()
            .position(|l| l.contains(&format!("││  {p} ")) || l.contains(&format!("││▶ {p} ")))
            .unwrap_or_else(|| panic!("position {p} not listed:\n{screen}"))
    };
    let first = line_of(1);
    for p in 2..=6 {
        assert_eq!(line_of(p), first + p - 1, "{screen}");
    }
    insta::assert_snapshot!("inspector_feed_100x30", screen);
    app.view = View::Tuning;
    let screen = render(&app, 100, 30);
    assert!(screen.contains("feed.rerank"), "{screen}");
    // The live board counts every stream a slate showed: impressions.
    app.view = View::Board;
    let screen = render(&app, 100, 30);
    assert!(screen.contains("Impressions"), "{screen}");
}

/// `--validate-every`: the live worker validates the policy on the validation world every N
/// steps; the validations reach the app in order, are logged, and the reward chart draws
/// them as a series of their own.
#[test]
fn validations_are_drawn_beside_the_training_reward() {
    let mut p = plan("bandit");
    p.validation = Some(liveq::worker::validation::ValidationPlan {
        every: 10_000,
        steps: 2_000,
        patience: u32::MAX,
        min_delta: 0.0,
    });
    let snaps = scripted(p, factory(Default::default()), 40_000, 5_000, &[]).expect("a run");
    let app = app_from(snaps, COLOR);
    let steps: Vec<u64> = app.validation.iter().map(|v| v.step).collect();
    assert_eq!(steps, vec![10_000, 20_000, 30_000, 40_000]);
    assert!(app.validation.iter().all(|v| v.reward_per_step > 0.0));
    assert!(app.log.iter().any(|l| l.text.starts_with("validation: ")));
    let screen = render(&app, 120, 40);
    assert!(screen.contains("validation"), "{screen}");
}
