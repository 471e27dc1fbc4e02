//! Where the dashboard is: its four views and the overlays that can cover them. Plain data
//! shared by the app state, the key map and the views.

/// The views, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Overview,
    Board,
    Inspector,
    Tuning,
}

impl View {
    pub const ALL: [View; 4] = [View::Overview, View::Board, View::Inspector, View::Tuning];

    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Board => "Live board",
            View::Inspector => "Inspector",
            View::Tuning => "Tuning",
        }
    }

    pub fn index(self) -> usize {
        View::ALL.iter().position(|&v| v == self).unwrap_or(0)
    }
}

/// What is drawn over the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Picker,
    /// Quitting would lose what the learner trained since it was last saved: ask first.
    ConfirmQuit,
}
