//! Trend forecasts for early warnings: a robust straight-line fit of a
//! series (Theil–Sen: the median of the slopes between every pair of
//! points, so one spike moves it little) and the time until the fitted line
//! crosses a threshold. Pure: `ops::predict` feeds it the health samples.
//!
//! A forecast is only made when the trend is real, not noise: enough
//! points over enough time, most pairs of points agreeing on the
//! direction (a flat noisy series splits about evenly, a series with one
//! spike has mostly level pairs), the fitted level not past the threshold
//! already (the alert covers that), and the crossing within the horizon.

/// Fewest points a forecast is made from.
pub const MIN_POINTS: usize = 8;

/// Share of point pairs that must move towards the threshold: a random
/// walk or noise around a level gives about half.
pub const MIN_AGREEMENT: f64 = 0.7;

/// Where a series is headed: the fitted line at the last point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Change per second.
    pub slope: f64,
    /// The line's value at the last point's time.
    pub level: f64,
    /// Share of point pairs whose slope has the sign of `slope`.
    pub agreement: f64,
}

/// Which way a threshold is crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The value grows towards a ceiling (latency, memory).
    Rising,
    /// The value shrinks towards a floor (free disk space).
    Falling,
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

/// The Theil–Sen fit of `(seconds, value)` points in time order; `None`
/// with fewer than two distinct times.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
    for (i, (t1, v1)) in points.iter().enumerate() {
        for (t2, v2) in &points[i + 1..] {
            if t2 > t1 {
                slopes.push((v2 - v1) / (t2 - t1));
            }
        }
    }
    let pairs = slopes.len();
    let slope = median(&mut slopes)?;
    let agreeing = slopes.iter().filter(|s| s.signum() == slope.signum() && **s != 0.0).count();
    let (last_t, _) = points.last()?;
    let mut intercepts: Vec<f64> = points.iter().map(|(t, v)| v - slope * t).collect();
    let level = median(&mut intercepts)? + slope * last_t;
    Some(Fit { slope, level, agreement: agreeing as f64 / pairs as f64 })
}

/// Seconds until the series crosses `threshold` going `direction`, if it
/// does within `horizon_secs` by a trend that is not noise.
pub fn eta_secs(points: &[(f64, f64)], threshold: f64, direction: Direction, horizon_secs: f64) -> Option<f64> {
    if points.len() < MIN_POINTS {
        return None;
    }
    let fit = fit(points)?;
    let towards = match direction {
        Direction::Rising => fit.slope > 0.0 && fit.level < threshold,
        Direction::Falling => fit.slope < 0.0 && fit.level > threshold,
    };
    if !towards || fit.agreement < MIN_AGREEMENT {
        return None;
    }
    let eta = (threshold - fit.level) / fit.slope;
    (eta.is_finite() && eta > 0.0 && eta <= horizon_secs).then_some(eta)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic jitter in [-1, 1], so the tests need no random crate.
    fn jitter(i: usize) -> f64 {
        ((i * 7919 + 13) % 201) as f64 / 100.0 - 1.0
    }

    fn series(n: usize, every: f64, value: impl Fn(usize) -> f64) -> Vec<(f64, f64)> {
        (0..n).map(|i| (i as f64 * every, value(i))).collect()
    }

    #[test]
    fn a_steady_rise_warns_with_the_time_it_crosses() {
        // p99 latency 100 ms rising 2 ms per 10 s sample: 500 ms at sample 200.
        let points = series(30, 10.0, |i| 100.0 + 2.0 * i as f64 + jitter(i));
        let eta = eta_secs(&points, 500.0, Direction::Rising, 3600.0).expect("a warning");
        // From the last sample (t = 290 s, ~158 ms): (500 - 158) / 0.2 per s.
        assert!((eta - 1710.0).abs() < 60.0, "eta {eta}");
        assert!(eta_secs(&points, 500.0, Direction::Rising, 600.0).is_none(), "beyond the horizon");
    }

    #[test]
    fn free_space_falling_warns_before_it_runs_out() {
        let gib = 1024.0 * 1024.0 * 1024.0;
        // 10 GiB free, 50 MiB less per minute: gone in about 3.4 hours.
        let points = series(60, 60.0, |i| 10.0 * gib - i as f64 * 50.0 * 1024.0 * 1024.0);
        let eta = eta_secs(&points, 0.0, Direction::Falling, 86_400.0).unwrap();
        let expected = (10.0 * gib / (50.0 * 1024.0 * 1024.0) - 59.0) * 60.0;
        assert!((eta - expected).abs() < 1.0, "eta {eta} expected {expected}");
        assert!(eta_secs(&points, 0.0, Direction::Rising, 86_400.0).is_none(), "wrong direction");
    }

    #[test]
    fn flat_noise_does_not_warn() {
        let points = series(90, 10.0, |i| 200.0 + 150.0 * jitter(i));
        assert!(eta_secs(&points, 500.0, Direction::Rising, 1e9).is_none(), "{:?}", fit(&points));
        let constant = series(90, 10.0, |_| 42.0);
        assert!(eta_secs(&constant, 50.0, Direction::Rising, 1e9).is_none());
    }

    #[test]
    fn a_single_spike_does_not_warn() {
        let points = series(40, 10.0, |i| if i == 35 { 480.0 } else { 120.0 + jitter(i) });
        let fitted = fit(&points).unwrap();
        assert!(fitted.slope.abs() < 0.05, "{fitted:?}");
        assert!(eta_secs(&points, 500.0, Direction::Rising, 1e9).is_none(), "{fitted:?}");
    }

    #[test]
    fn past_the_threshold_or_too_few_points_is_left_to_the_alert() {
        let above = series(20, 10.0, |i| 600.0 + i as f64);
        assert!(eta_secs(&above, 500.0, Direction::Rising, 1e9).is_none());
        let few = series(MIN_POINTS - 1, 10.0, |i| i as f64 * 10.0);
        assert!(eta_secs(&few, 500.0, Direction::Rising, 1e9).is_none());
        assert_eq!(fit(&[(5.0, 1.0), (5.0, 2.0)]), None, "one instant has no slope");
    }
}
