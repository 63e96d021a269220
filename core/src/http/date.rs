//! The `Date` header value (IMF-fixdate, RFC 9110) for a given Unix time. The core has no
//! clock: the adapter passes the current time in.

/// A Unix time split into UTC calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, 1-31.
    pub day: u32,
    /// Hour, minute, second.
    pub hms: (u32, u32, u32),
    /// Day of the week, 0 = Sunday.
    pub weekday: u32,
}

/// Splits `unix_secs` into UTC calendar fields (Howard Hinnant's civil-from-days).
pub fn civil(unix_secs: u64) -> Civil {
    let secs = unix_secs as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    Civil {
        year: yoe + era * 400 + i64::from(month <= 2),
        month: month as u32,
        day: day as u32,
        hms: (
            (rem / 3600) as u32,
            (rem % 3600 / 60) as u32,
            (rem % 60) as u32,
        ),
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

impl Civil {
    /// The month's three-letter English name (`Jan`).
    pub fn month_name(&self) -> &'static str {
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ][(self.month.clamp(1, 12) - 1) as usize]
    }
}

/// Formats `unix_secs` as `Wed, 25 Nov 2026 19:54:00 GMT`.
pub fn http_date(unix_secs: u64) -> String {
    let c = civil(unix_secs);
    let weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][c.weekday as usize];
    let month = c.month_name();
    let (h, m, s) = c.hms;
    format!(
        "{weekday}, {:02} {month} {:04} {h:02}:{m:02}:{s:02} GMT",
        c.day, c.year
    )
}

/// `02/Jan/2006:15:04:05 +0000` (the common log format's time, in UTC).
pub fn clf_date(unix_secs: u64) -> String {
    let c = civil(unix_secs);
    let (h, m, s) = c.hms;
    format!(
        "{:02}/{}/{:04}:{h:02}:{m:02}:{s:02} +0000",
        c.day,
        c.month_name(),
        c.year
    )
}

/// Go's `RFC3339Nano` in UTC (`2026-11-25T19:54:00.38899812Z`): the fraction's trailing zeros
/// dropped, none for a whole second.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let c = civil(d.as_secs());
    let (h, m, s) = c.hms;
    let mut out = format!(
        "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}",
        c.year, c.month, c.day
    );
    let nanos = d.subsec_nanos();
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_dates_as_go_writes_them() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(super::clf_date(1_795_636_440), "25/Nov/2026:19:54:00 +0000");
        let t = UNIX_EPOCH + Duration::new(1_795_636_440, 388_998_120);
        assert_eq!(super::rfc3339(t), "2026-11-25T19:54:00.38899812Z");
        assert_eq!(
            super::rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_636_440)),
            "2026-11-25T19:54:00Z"
        );
    }

    #[test]
    fn known_dates() {
        assert_eq!(super::http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            super::http_date(1_795_636_440),
            "Wed, 25 Nov 2026 19:54:00 GMT"
        );
    }
}
