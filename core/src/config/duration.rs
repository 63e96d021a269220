//! Go-style durations: Traefik reads a bare integer as seconds, anything else with Go's
//! `time.ParseDuration` (`300ms`, `1h30m`, `-1.5s`).

use std::fmt;

/// A signed duration in nanoseconds, as Go's `time.Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    /// One nanosecond.
    pub const NANOSECOND: i64 = 1;
    /// One microsecond in nanoseconds.
    pub const MICROSECOND: i64 = 1_000;
    /// One millisecond in nanoseconds.
    pub const MILLISECOND: i64 = 1_000_000;
    /// One second in nanoseconds.
    pub const SECOND: i64 = 1_000_000_000;
    /// One minute in nanoseconds.
    pub const MINUTE: i64 = 60 * Self::SECOND;
    /// One hour in nanoseconds.
    pub const HOUR: i64 = 60 * Self::MINUTE;

    /// `n` seconds.
    pub const fn from_secs(n: i64) -> Self {
        Duration(n * Self::SECOND)
    }

    /// `n` milliseconds.
    pub const fn from_millis(n: i64) -> Self {
        Duration(n * Self::MILLISECOND)
    }

    /// The duration in nanoseconds.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// The duration as a `std::time::Duration` (negative values become zero).
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }

    /// Parses Traefik's duration syntax: an integer is seconds, otherwise a Go duration string.
    pub fn parse_traefik(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if let Ok(secs) = t.parse::<i64>() {
            return secs
                .checked_mul(Self::SECOND)
                .map(Duration)
                .ok_or_else(|| format!("time: invalid duration \"{s}\""));
        }
        Self::parse_go(t)
    }

    /// Parses a Go duration string exactly as `time.ParseDuration`.
    pub fn parse_go(s: &str) -> Result<Self, String> {
        let invalid = || format!("time: invalid duration \"{s}\"");
        let (neg, mut rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if rest == "0" {
            return Ok(Duration(0));
        }
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total: u128 = 0;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &rest[..int_len];
            rest = &rest[int_len..];
            let mut frac_part = "";
            if let Some(r) = rest.strip_prefix('.') {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &r[..n];
                rest = &r[n..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(invalid());
            }
            let unit_len = rest
                .char_indices()
                .find(|(_, c)| *c == '.' || c.is_ascii_digit())
                .map_or(rest.len(), |(i, _)| i);
            let unit = match &rest[..unit_len] {
                "ns" => 1u128,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(format!("time: missing unit in duration \"{s}\"")),
                u => return Err(format!("time: unknown unit \"{u}\" in duration \"{s}\"")),
            };
            rest = &rest[unit_len..];
            let int: u128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| invalid())?
            };
            let mut value = int.checked_mul(unit).ok_or_else(invalid)?;
            if !frac_part.is_empty() {
                let mut scale = 1u128;
                let mut frac = 0u128;
                for d in frac_part.bytes().take(30) {
                    frac = frac * 10 + u128::from(d - b'0');
                    scale *= 10;
                }
                value += frac * unit / scale;
            }
            total = total.checked_add(value).ok_or_else(invalid)?;
            if total > i64::MAX as u128 + u128::from(neg) {
                return Err(invalid());
            }
        }
        let v = if neg {
            (total as i128).wrapping_neg() as i64
        } else {
            total as i64
        };
        Ok(Duration(v))
    }
}

impl fmt::Display for Duration {
    /// Formats like Go's `Duration.String` (`1m30s`, `300ms`, `0s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let mut u = self.0.unsigned_abs();
        let sign = if neg { "-" } else { "" };
        if u < 1_000_000_000 {
            let (unit, div) = match u {
                0 => return f.write_str("0s"),
                1..=999 => ("ns", 1),
                1_000..=999_999 => ("µs", 1_000),
                _ => ("ms", 1_000_000),
            };
            return write!(f, "{sign}{}{unit}", frac(u, div));
        }
        let h = u / 3_600_000_000_000;
        u -= h * 3_600_000_000_000;
        let m = u / 60_000_000_000;
        u -= m * 60_000_000_000;
        let s = frac(u, 1_000_000_000);
        f.write_str(sign)?;
        if h > 0 {
            write!(f, "{h}h{m}m")?;
        } else if m > 0 {
            write!(f, "{m}m")?;
        }
        write!(f, "{s}s")
    }
}

fn frac(v: u64, div: u64) -> String {
    let whole = v / div;
    let rem = v % div;
    if rem == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{rem:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_seconds() {
        assert_eq!(Duration::parse_traefik("10"), Ok(Duration::from_secs(10)));
        assert_eq!(Duration::parse_traefik("-1"), Ok(Duration::from_secs(-1)));
    }

    #[test]
    fn go_durations() {
        assert_eq!(
            Duration::parse_traefik("300ms"),
            Ok(Duration::from_millis(300))
        );
        assert_eq!(
            Duration::parse_traefik("1h30m"),
            Ok(Duration(90 * Duration::MINUTE))
        );
        assert_eq!(
            Duration::parse_traefik("1.5s"),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(Duration::parse_traefik("0"), Ok(Duration(0)));
        assert!(Duration::parse_traefik("10x").is_err());
        assert!(Duration::parse_traefik("1.5").is_err());
        assert!(Duration::parse_traefik("").is_err());
        assert!(Duration::parse_traefik("s").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(Duration::from_secs(90).to_string(), "1m30s");
        assert_eq!(Duration::from_millis(300).to_string(), "300ms");
        assert_eq!(Duration::from_secs(3600).to_string(), "1h0m0s");
        assert_eq!(Duration(0).to_string(), "0s");
        assert_eq!(Duration::from_millis(1500).to_string(), "1.5s");
    }

    #[test]
    fn go_strings() {
        let cases = [
            (0, "0s"),
            (5, "5ns"),
            (1_500, "1.5\u{b5}s"),
            (100_000_000, "100ms"),
            (1_234_567, "1.234567ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (59_000_000_000, "59s"),
            (123_000_000_000, "2m3s"),
            (3_600_000_000_000, "1h0m0s"),
            (-2_000_000, "-2ms"),
        ];
        for (n, want) in cases {
            assert_eq!(Duration(n).to_string(), want, "{n}");
        }
    }
}
