//! Colours, symbols and borders in one place, so that `NO_COLOR` (no colours, only bold and
//! reverse) and `--ascii` (no Braille, no box drawing, no arrows: plain ASCII for terminals or
//! locales without UTF-8) are honoured by every view.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::{self, Marker};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType};

/// How the dashboard draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
}

/// Borders drawn with `+`, `-` and `|`.
pub const ASCII_BORDER: symbols::border::Set<'static> = symbols::border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Theme {
    /// From the environment: `NO_COLOR` set and not empty turns colours off; a locale that is not
    /// UTF-8 (first of `LC_ALL`, `LC_CTYPE`, `LANG` that is set) turns ASCII on.
    pub fn detect(force_ascii: bool) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme {
            color: !no_color,
            ascii: force_ascii || !locale_is_utf8(),
        }
    }

    /// `s` when Unicode is allowed, else `ascii`.
    pub fn sym<'a>(&self, s: &'a str, ascii: &'a str) -> &'a str {
        if self.ascii { ascii } else { s }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn text(&self) -> Style {
        Style::new()
    }
    pub fn dim(&self) -> Style {
        if self.color {
            self.fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    pub fn label(&self) -> Style {
        self.fg(Color::Gray)
    }
    pub fn value(&self) -> Style {
        self.fg(Color::White).add_modifier(Modifier::BOLD)
    }
    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// The selected row of a list or table.
    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    /// Colour of chart series `i` (0 = the policy being watched).
    pub fn series(&self, i: usize) -> Style {
        const COLORS: [Color; 6] = [
            Color::Cyan,
            Color::Yellow,
            Color::Magenta,
            Color::Green,
            Color::Blue,
            Color::Red,
        ];
        self.fg(COLORS[i % COLORS.len()])
    }
    /// Colour of a chart marker (a tuning change or a reset).
    pub fn marker_style(&self, reset: bool) -> Style {
        self.fg(if reset {
            Color::Red
        } else {
            Color::LightYellow
        })
    }

    /// The chart marker of series `i`: Braille, or a letter per series when there is no colour
    /// to tell lines apart, or ASCII characters.
    pub fn marker(&self, letter: char) -> Marker {
        match (self.ascii, self.color) {
            (false, true) => Marker::Braille,
            (true, true) => Marker::Custom('*'),
            (_, false) => Marker::Custom(letter),
        }
    }

    /// A bordered panel with a title.
    pub fn block<'a>(&self, title: impl Into<ratatui::text::Line<'a>>) -> Block<'a> {
        let b = Block::bordered()
            .title(title)
            .title_style(self.title())
            .border_style(self.dim());
        if self.ascii {
            b.border_set(ASCII_BORDER)
        } else {
            b.border_type(BorderType::Rounded)
        }
    }

    /// A key name in hints and help.
    pub fn key<'a>(&self, k: &'a str) -> Span<'a> {
        Span::styled(k, self.accent())
    }

    /// A horizontal bar of `width` cells filled to `share` in [0, 1].
    pub fn bar(&self, share: f64, width: usize) -> String {
        let cells = share.clamp(0.0, 1.0) * width as f64;
        let full = cells.floor() as usize;
        let mut s = self.sym("█", "#").repeat(full);
        if !self.ascii && full < width {
            const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
            s.push_str(PARTS[((cells - full as f64) * 8.0) as usize % 8]);
        }
        s
    }

    /// In ASCII mode, replaces whatever non-ASCII symbols widgets drew (axis lines, legend
    /// borders) by ASCII ones.
    pub fn asciify(&self, buf: &mut Buffer) {
        if !self.ascii {
            return;
        }
        for cell in buf.content.iter_mut() {
            let s = cell.symbol();
            if s.is_ascii() {
                continue;
            }
            let r = match s {
                "─" | "━" | "═" | "╌" => "-",
                "│" | "┃" | "║" | "╎" => "|",
                "┌" | "┐" | "└" | "┘" | "╭" | "╮" | "╰" | "╯" | "├" | "┤" | "┬" | "┴" | "┼" => {
                    "+"
                }
                "•" | "█" | "▄" | "▀" | "▌" | "▐" => "#",
                "…" | "·" => ".",
                "▶" | "→" => ">",
                "★" | "◆" => "*",
                "ε" => "e",
                "×" => "x",
                _ => "?",
            };
            cell.set_symbol(r);
        }
    }
}

/// Whether the locale (first of `LC_ALL`, `LC_CTYPE`, `LANG` that is set and not empty) says
/// UTF-8. No locale at all means the C locale: not UTF-8.
pub fn locale_is_utf8() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}
