//! Money as plans show it: `$98.32/h`, `$71,774/month`, `+$3.52/h`.

/// Dollars with cents and thousands separators: `$1,234.50`; amounts under ten cents keep
/// up to four decimals (`$0.005`), so small hourly rates do not show as `$0.00`.
pub fn usd(amount: f64) -> String {
    let small = (amount.abs() * 10_000.0).round() / 10_000.0;
    let whole_cents = ((small * 100.0).round() - small * 100.0).abs() < 1e-9;
    if small > 0.0 && small < 0.1 && !whole_cents {
        let text = format!("{small:.4}");
        let sign = if amount < 0.0 { "-" } else { "" };
        return format!("{sign}${}", text.trim_end_matches('0'));
    }
    let cents = (amount.abs() * 100.0).round() as u64;
    let sign = if amount < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// Whole dollars with thousands separators: `$71,774`.
pub fn usd_whole(amount: f64) -> String {
    let dollars = amount.abs().round() as u64;
    let sign = if amount < 0.0 && dollars > 0 { "-" } else { "" };
    format!("{sign}${}", thousands(dollars))
}

/// A change: `+$98.32`, `-$3.00`, `$0.00`.
pub fn usd_delta(amount: f64) -> String {
    if (amount * 100.0).round() == 0.0 {
        "$0.00".to_owned()
    } else if amount > 0.0 {
        format!("+{}", usd(amount))
    } else {
        usd(amount)
    }
}

/// A monthly change in whole dollars: `+$71,774`.
pub fn usd_whole_delta(amount: f64) -> String {
    if amount.round() == 0.0 {
        "$0".to_owned()
    } else if amount > 0.0 {
        format!("+{}", usd_whole(amount))
    } else {
        usd_whole(amount)
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_render_like_a_bill() {
        assert_eq!(usd(98.32), "$98.32");
        assert_eq!(usd(1234.5), "$1,234.50");
        assert_eq!(usd(0.004), "$0.004");
        assert_eq!(usd(0.045), "$0.045");
        assert_eq!(usd(1.0 / 730.0), "$0.0014");
        assert_eq!(usd(0.05), "$0.05");
        assert_eq!(usd(0.00001), "$0.00");
        assert_eq!(usd_whole(71_773.6), "$71,774");
        assert_eq!(usd_whole(999.4), "$999");
        assert_eq!(usd_whole(1_000_000.0), "$1,000,000");
        assert_eq!(usd_delta(98.32), "+$98.32");
        assert_eq!(usd_delta(-3.0), "-$3.00");
        assert_eq!(usd_delta(0.001), "$0.00");
        assert_eq!(usd_whole_delta(-71_774.0), "-$71,774");
    }
}
