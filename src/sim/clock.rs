//! Simulated time: minutes since the start of the run (day 0 is a Monday, 00:00).

/// Minutes in a simulated day.
pub const DAY: f64 = 1440.0;

/// A point in simulated time, in minutes since the start.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, serde::Serialize)]
pub struct SimTime(pub f64);

impl SimTime {
    pub fn minutes(self) -> f64 {
        self.0
    }
    /// Whole days since the start.
    pub fn day(self) -> u64 {
        (self.0 / DAY).floor().max(0.0) as u64
    }
    /// Minute of the day in [0, 1440).
    pub fn minute_of_day(self) -> f64 {
        self.0.rem_euclid(DAY)
    }
    /// Hour of the day, fractional, in [0, 24).
    pub fn hour_of_day(self) -> f64 {
        self.minute_of_day() / 60.0
    }
    /// Day of the week, 0 = Monday.
    pub fn weekday(self) -> u8 {
        ((self.0 / DAY).floor() as i64).rem_euclid(7) as u8
    }
}

impl std::fmt::Display for SimTime {
    /// `day 3 Thu 19:05`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let m = self.minute_of_day() as u32;
        write!(
            f,
            "day {} {} {:02}:{:02}",
            self.day(),
            NAMES[self.weekday() as usize],
            m / 60,
            m % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_day_weekday_and_clock() {
        let t = SimTime(3.0 * DAY + 19.0 * 60.0 + 5.5);
        assert_eq!(t.to_string(), "day 3 Thu 19:05");
        assert_eq!(t.weekday(), 3);
        assert!((t.hour_of_day() - 19.09).abs() < 0.01);
    }
}
