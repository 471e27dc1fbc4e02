//! Key bindings, as one table ([`KEYMAP`]): each row is a line of the help overlay (the keys
//! as shown, what they do) and the key presses it binds, in the places (main screen, help,
//! scenario picker) where they apply. [`map_key`] reads the table and the help overlay lists
//! it, so the two cannot drift apart (a test presses every listed key).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::nav::{Overlay, View};

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
    /// Quit without asking (from the quit confirmation).
    QuitNow,
    /// Save a checkpoint, then quit (from the quit confirmation).
    SaveAndQuit,
    /// Start typing a scenario's path (in the picker).
    TypePath,
    /// A character of the typed path.
    Type(char),
    /// Delete the last character of the typed path.
    Backspace,
}

/// Where a key press lands: the main screen, or the overlay that is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Main,
    Help,
    Picker,
    Confirm,
    /// The picker's path field: every character is text.
    Typing,
}

impl Place {
    /// The place of an open overlay (or the main screen).
    pub fn of(overlay: Option<Overlay>) -> Place {
        Self::at(overlay, false)
    }

    /// The place of an open overlay, `typing` when the picker's path field has the keys.
    pub fn at(overlay: Option<Overlay>, typing: bool) -> Place {
        match overlay {
            Some(Overlay::Picker) if typing => Place::Typing,
            None => Place::Main,
            Some(Overlay::Help) => Place::Help,
            Some(Overlay::Picker) => Place::Picker,
            Some(Overlay::ConfirmQuit) => Place::Confirm,
        }
    }
}

/// One line of the help overlay and the bindings behind it.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys as the help shows them.
    pub keys: &'static str,
    /// What they do.
    pub help: &'static str,
    /// Each bound key press: where, which key, what it does.
    pub binds: &'static [(Place, KeyCode, Action)],
}

use Action as A;
use KeyCode::{
    BackTab, Backspace, Char as C, Down, Enter, Esc, Left, PageDown, PageUp, Right, Tab, Up,
};
use Place::{Confirm as Q, Help as H, Main as M, Picker as P, Typing as T};

/// Every binding (Ctrl-C, which quits everywhere, is the one key press outside the table:
/// it needs a modifier).
pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: "1 2 3 4, Tab",
        help: "overview, live board, inspector, tuning (Shift-Tab back)",
        binds: &[
            (M, C('1'), A::ShowView(View::Overview)),
            (M, C('2'), A::ShowView(View::Board)),
            (M, C('3'), A::ShowView(View::Inspector)),
            (M, C('4'), A::ShowView(View::Tuning)),
            (M, Tab, A::NextView),
            (M, BackTab, A::PrevView),
        ],
    },
    Binding {
        keys: "space",
        help: "pause / resume",
        binds: &[(M, C(' '), A::TogglePause)],
    },
    Binding {
        keys: ".",
        help: "one step while paused (the inspector shows it)",
        binds: &[(M, C('.'), A::StepOnce)],
    },
    Binding {
        keys: "< >, ,",
        help: "slower / faster: 10, 100, 1k, 10k steps/s, full",
        binds: &[
            (M, C('<'), A::Slower),
            (M, C(','), A::Slower),
            (M, C('>'), A::Faster),
        ],
    },
    Binding {
        keys: "z Z  ] [",
        help: "zoom charts in / out in time",
        binds: &[
            (M, C('z'), A::ZoomIn),
            (M, C(']'), A::ZoomIn),
            (M, C('Z'), A::ZoomOut),
            (M, C('['), A::ZoomOut),
        ],
    },
    Binding {
        keys: "up down, k j",
        help: "select (tuning, board, inspector, picker)",
        binds: &[
            (M, Up, A::Up),
            (M, C('k'), A::Up),
            (M, Down, A::Down),
            (M, C('j'), A::Down),
            (P, Up, A::Up),
            (P, C('k'), A::Up),
            (P, Down, A::Down),
            (P, C('j'), A::Down),
        ],
    },
    Binding {
        keys: "PgUp PgDn",
        help: "move the selection ten rows",
        binds: &[(M, PageUp, A::PageUp), (M, PageDown, A::PageDown)],
    },
    Binding {
        keys: "left right, h l, - + =",
        help: "change the selected setting (tuning), the policy (picker)",
        binds: &[
            (M, Left, A::Decrease),
            (M, C('h'), A::Decrease),
            (M, C('-'), A::Decrease),
            (M, Right, A::Increase),
            (M, C('l'), A::Increase),
            (M, C('+'), A::Increase),
            (M, C('='), A::Increase),
            (P, Left, A::Decrease),
            (P, C('h'), A::Decrease),
            (P, Right, A::Increase),
            (P, C('l'), A::Increase),
        ],
    },
    Binding {
        keys: "f",
        help: "freeze / follow the inspected decision",
        binds: &[(M, C('f'), A::Freeze)],
    },
    Binding {
        keys: "r",
        help: "reset the agent: a fresh policy, same world",
        binds: &[(M, C('r'), A::ResetAgent)],
    },
    Binding {
        keys: "s",
        help: "save a checkpoint (learner only)",
        binds: &[(M, C('s'), A::Save)],
    },
    Binding {
        keys: "o",
        help: "open a scenario (Enter launches it, o closes the list)",
        binds: &[
            (M, C('o'), A::OpenPicker),
            (P, Enter, A::Enter),
            (P, C('o'), A::CloseOverlay),
            (M, Enter, A::Enter),
        ],
    },
    Binding {
        keys: "/",
        help: "in the picker: type a path or name (Enter, Backspace, Esc)",
        binds: &[
            (P, C('/'), A::TypePath),
            (T, Enter, A::Enter),
            (T, Esc, A::CloseOverlay),
            (T, Backspace, A::Backspace),
        ],
    },
    Binding {
        keys: "?",
        help: "this help (? or Enter closes it)",
        binds: &[
            (M, C('?'), A::ToggleHelp),
            (H, C('?'), A::CloseOverlay),
            (H, Enter, A::CloseOverlay),
        ],
    },
    Binding {
        keys: "Esc",
        help: "close an overlay",
        binds: &[
            (M, Esc, A::CloseOverlay),
            (H, Esc, A::CloseOverlay),
            (P, Esc, A::CloseOverlay),
        ],
    },
    Binding {
        keys: "q, Ctrl-C",
        help: "quit (asks first when the learner has unsaved training)",
        binds: &[
            (M, C('q'), A::Quit),
            (H, C('q'), A::Quit),
            (P, C('q'), A::Quit),
        ],
    },
    Binding {
        keys: "y s n",
        help: "when asked: y quit, s save and quit, n or Esc stay",
        binds: &[
            (Q, C('y'), A::QuitNow),
            (Q, C('q'), A::QuitNow),
            (Q, C('s'), A::SaveAndQuit),
            (Q, C('n'), A::CloseOverlay),
            (Q, Esc, A::CloseOverlay),
        ],
    },
];

/// The action of a key press; None for keys that do nothing there.
pub fn map_key(key: KeyEvent, overlay: Option<Overlay>) -> Option<Action> {
    map_key_at(key, Place::of(overlay))
}

/// The action of a key press in `place` (the picker's path field takes every character).
pub fn map_key_at(key: KeyEvent, place: Place) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Action::Quit);
    }
    if let (Place::Typing, KeyCode::Char(c)) = (place, key.code) {
        return Some(Action::Type(c));
    }
    KEYMAP
        .iter()
        .flat_map(|b| b.binds)
        .find(|&&(p, k, _)| p == place && k == key.code)
        .map(|&(_, _, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key press of the table does what its row says, and no key is bound twice in a
    /// place.
    #[test]
    fn every_listed_key_does_what_the_help_says() {
        for b in KEYMAP {
            for &(place, code, action) in b.binds {
                let got = map_key_at(KeyEvent::new(code, KeyModifiers::NONE), place);
                assert_eq!(got, Some(action), "{} ({code:?} in {place:?})", b.keys);
                let shown = match code {
                    KeyCode::Char(' ') => "space".to_string(),
                    KeyCode::Char(c) => c.to_string(),
                    KeyCode::Up => "up".into(),
                    KeyCode::Down => "down".into(),
                    KeyCode::Left => "left".into(),
                    KeyCode::Right => "right".into(),
                    KeyCode::PageUp => "PgUp".into(),
                    KeyCode::PageDown => "PgDn".into(),
                    KeyCode::Tab | KeyCode::BackTab => "Tab".into(),
                    KeyCode::Esc => "Esc".into(),
                    KeyCode::Enter => "Enter".into(),
                    KeyCode::Backspace => "Backspace".into(),
                    other => format!("{other:?}"),
                };
                assert!(
                    b.keys.contains(&shown) || b.help.contains(&shown),
                    "{shown} is bound on the `{}` line but not shown there",
                    b.keys
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        for &(place, code, _) in KEYMAP.iter().flat_map(|b| b.binds) {
            assert!(
                seen.insert((place, code)),
                "{code:?} bound twice in {place:?}"
            );
        }
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for o in [
            None,
            Some(Overlay::Help),
            Some(Overlay::Picker),
            Some(Overlay::ConfirmQuit),
        ] {
            assert_eq!(map_key(ctrl_c, o), Some(Action::Quit));
        }
    }
}
