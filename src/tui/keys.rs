//! Key bindings: which key does what, as a pure mapping from a key press (and whether an
//! overlay is open) to an [`Action`]. The app turns actions into worker commands; the help
//! overlay lists [`BINDINGS`], so the two cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{Overlay, View};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    CloseOverlay,
    ToggleHelp,
    OpenPicker,
    ShowView(View),
    NextView,
    PrevView,
    TogglePause,
    StepOnce,
    Slower,
    Faster,
    ResetAgent,
    Save,
    ZoomIn,
    ZoomOut,
    Up,
    Down,
    PageUp,
    PageDown,
    Decrease,
    Increase,
    Enter,
    Freeze,
}

/// Every binding, for the help overlay: keys, what they do.
pub const BINDINGS: &[(&str, &str)] = &[
    (
        "1 2 3 4, Tab",
        "overview, live board, inspector, tuning (Shift-Tab back)",
    ),
    ("space", "pause / resume"),
    (".", "one step while paused (the inspector shows it)"),
    ("< >", "slower / faster: 10, 100, 1k, 10k steps/s, full"),
    ("z Z  ] [", "zoom charts in / out in time"),
    ("up down, k j", "select (tuning, board, inspector, picker)"),
    ("left right, - +", "change the selected setting (tuning)"),
    ("f", "freeze / follow the inspected decision"),
    ("r", "reset the agent: a fresh policy, same world"),
    ("s", "save a checkpoint (learner only)"),
    ("o", "open a scenario (Enter launches it)"),
    ("?", "this help"),
    ("Esc", "close an overlay"),
    ("q, Ctrl-C", "quit"),
];

/// The action of a key press; None for keys that do nothing there.
pub fn map_key(key: KeyEvent, overlay: Option<Overlay>) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Action::Quit);
    }
    match overlay {
        Some(Overlay::Help) => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => Some(Action::CloseOverlay),
            _ => None,
        },
        Some(Overlay::Picker) => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Esc | KeyCode::Char('o') => Some(Action::CloseOverlay),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::Enter => Some(Action::Enter),
            _ => None,
        },
        None => Some(match key.code {
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Char('?') => Action::ToggleHelp,
            KeyCode::Char('o') => Action::OpenPicker,
            KeyCode::Char('1') => Action::ShowView(View::Overview),
            KeyCode::Char('2') => Action::ShowView(View::Board),
            KeyCode::Char('3') => Action::ShowView(View::Inspector),
            KeyCode::Char('4') => Action::ShowView(View::Tuning),
            KeyCode::Tab => Action::NextView,
            KeyCode::BackTab => Action::PrevView,
            KeyCode::Char(' ') => Action::TogglePause,
            KeyCode::Char('.') => Action::StepOnce,
            KeyCode::Char('<') | KeyCode::Char(',') => Action::Slower,
            KeyCode::Char('>') => Action::Faster,
            KeyCode::Char('r') => Action::ResetAgent,
            KeyCode::Char('s') => Action::Save,
            KeyCode::Char('z') | KeyCode::Char(']') => Action::ZoomIn,
            KeyCode::Char('Z') | KeyCode::Char('[') => Action::ZoomOut,
            KeyCode::Up | KeyCode::Char('k') => Action::Up,
            KeyCode::Down | KeyCode::Char('j') => Action::Down,
            KeyCode::PageUp => Action::PageUp,
            KeyCode::PageDown => Action::PageDown,
            KeyCode::Left | KeyCode::Char('h') | KeyCode::Char('-') => Action::Decrease,
            KeyCode::Right | KeyCode::Char('l') | KeyCode::Char('+') | KeyCode::Char('=') => {
                Action::Increase
            }
            KeyCode::Enter => Action::Enter,
            KeyCode::Char('f') => Action::Freeze,
            KeyCode::Esc => Action::CloseOverlay,
            _ => return None,
        }),
    }
}
