//! The dashboard's figures: uploads, resized and failed artworks per day
//! (drawn as a server-side SVG chart), the health and latency of each
//! dependency, and the latest resizer errors.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use time::{Date, OffsetDateTime};
use tokio::{io::AsyncReadExt, net::TcpStream};

use super::{Support, logs};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayFigures {
    pub day: Date,
    pub uploads: i64,
    pub resized: i64,
    /// Uploaded that day and still without renditions past the stuck limit.
    pub failed: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub uploads: i64,
    pub resized: i64,
    pub failed: i64,
}

/// The last seven days (UTC), oldest first.
pub async fn days(pool: &PgPool, stuck_after: Duration) -> Result<Vec<DayFigures>, sqlx::Error> {
    sqlx::query_as!(
        DayFigures,
        r#"SELECT d::date AS "day!",
           (SELECT count(*) FROM artworks WHERE uploaded_at >= d AND uploaded_at < d + interval '1 day') AS "uploads!",
           (SELECT count(*) FROM artworks WHERE resized_at >= d AND resized_at < d + interval '1 day') AS "resized!",
           (SELECT count(*) FROM artworks WHERE resized_at IS NULL AND uploaded_at >= d AND uploaded_at < d + interval '1 day'
                                            AND uploaded_at <= now() - make_interval(secs => $1)) AS "failed!"
         FROM generate_series(date_trunc('day', now() AT TIME ZONE 'UTC') - interval '6 days',
                              date_trunc('day', now() AT TIME ZONE 'UTC'), interval '1 day') AS d
         ORDER BY d"#,
        stuck_after.as_secs_f64(),
    )
    .fetch_all(pool)
    .await
}

/// The same counts over the last 24 hours.
pub async fn last_day(pool: &PgPool, stuck_after: Duration) -> Result<Totals, sqlx::Error> {
    sqlx::query_as!(
        Totals,
        r#"SELECT count(*) FILTER (WHERE uploaded_at >= now() - interval '24 hours') AS "uploads!",
                count(*) FILTER (WHERE resized_at >= now() - interval '24 hours') AS "resized!",
                count(*) FILTER (WHERE resized_at IS NULL AND uploaded_at >= now() - interval '24 hours'
                                   AND uploaded_at <= now() - make_interval(secs => $1)) AS "failed!"
         FROM artworks"#,
        stuck_after.as_secs_f64(),
    )
    .fetch_one(pool)
    .await
}

pub fn totals(days: &[DayFigures]) -> Totals {
    days.iter().fold(Totals::default(), |t, d| Totals {
        uploads: t.uploads + d.uploads,
        resized: t.resized + d.resized,
        failed: t.failed + d.failed,
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A grouped bar chart of `days` as a standalone SVG, readable without
/// JavaScript (each bar carries its value as a tooltip, and the page shows
/// the same figures as a table).
pub fn chart_svg(days: &[DayFigures]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 40.0;
    const TOP: f64 = 30.0;
    type Series = (&'static str, &'static str, fn(&DayFigures) -> i64);
    let series: [Series; 3] = [
        ("uploads", "#3b5ba5", |d| d.uploads),
        ("resized", "#2e7d4f", |d| d.resized),
        ("failed", "#b3261e", |d| d.failed),
    ];
    let max = days.iter().flat_map(|d| series.iter().map(move |(_, _, f)| f(d))).max().unwrap_or(0).max(1);
    // A round top for the scale: 1, 2, 5, 10, 20, 50…
    let mut top = 1;
    while top < max {
        top = match top.to_string().chars().next() {
            Some('1') => top * 2,
            Some('2') => top / 2 * 5,
            _ => top * 2,
        };
    }
    let plot_h = H - TOP - BOTTOM;
    let slot = (W - LEFT - 10.0) / days.len().max(1) as f64;
    let bar = (slot - 12.0) / 3.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="chart-title chart-desc"><title id="chart-title">Uploads, resized and failed artworks per day, last 7 days</title><desc id="chart-desc">{}</desc>"#,
        escape(
            &days
                .iter()
                .map(|d| format!("{}: {} uploaded, {} resized, {} failed", d.day, d.uploads, d.resized, d.failed))
                .collect::<Vec<_>>()
                .join("; ")
        )
    );
    // Gridlines at whole values only (a scale of 1 or 2 has fewer).
    let ticks: Vec<i64> = (0..=4).filter(|i| (top * i) % 4 == 0).map(|i| top * i / 4).collect();
    for v in ticks {
        let y = TOP + plot_h - plot_h * v as f64 / top as f64;
        svg.push_str(&format!(
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{v}</text>"##,
            W - 10.0,
            LEFT - 4.0,
            y + 4.0
        ));
    }
    for (i, d) in days.iter().enumerate() {
        let x0 = LEFT + slot * i as f64 + 6.0;
        for (j, (name, colour, f)) in series.iter().enumerate() {
            let v = f(d);
            let h = plot_h * v as f64 / top as f64;
            svg.push_str(&format!(
                r#"<rect class="bar {name}" x="{:.1}" y="{:.1}" width="{bar:.1}" height="{h:.1}" fill="{colour}"><title>{} {name}: {v}</title></rect>"#,
                x0 + bar * j as f64,
                TOP + plot_h - h,
                d.day
            ));
        }
        let label = format!("{:02}-{:02}", d.day.month() as u8, d.day.day());
        svg.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{label}</text>"#,
            x0 + bar * 1.5,
            H - BOTTOM + 16.0
        ));
    }
    for (j, (name, colour, _)) in series.iter().enumerate() {
        let x = LEFT + 110.0 * j as f64;
        svg.push_str(&format!(
            r#"<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/><text x="{}" y="18" font-size="12">{name}</text>"#,
            x + 16.0
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// One dependency's health.
#[derive(Debug, Clone)]
pub struct Health {
    pub name: &'static str,
    pub target: String,
    pub ok: bool,
    pub latency: Duration,
    pub detail: String,
}

async fn timed<F, T, E>(name: &'static str, target: String, f: F) -> Health
where
    F: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(5), f).await;
    let latency = started.elapsed();
    let (ok, detail) = match result {
        Ok(Ok(_)) => (true, "ok".to_string()),
        Ok(Err(e)) => (false, e.to_string()),
        Err(_) => (false, "no answer within 5 s".to_string()),
    };
    Health { name, target, ok, latency, detail }
}

/// Postgres, the S3 endpoint, CloudWatch Logs and SMTP, checked at once.
pub async fn health(pool: &PgPool, support: &Support) -> Vec<Health> {
    let group = support.log_group();
    let pg = timed("Postgres", "the console's database".into(), sqlx::query_scalar!("SELECT 1").fetch_one(pool));
    let s3 = timed("S3", format!("bucket {}", support.buckets.originals), async {
        support.s3.head_bucket().bucket(&support.buckets.originals).send().await.map_err(|e| crate::aws::answer(&e))
    });
    let cw = timed("CloudWatch Logs", group.clone(), async {
        support
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&group)
            .send()
            .await
            .map_err(|e| crate::aws::answer(&e))
            .and_then(|out| {
                if out.log_groups().iter().any(|g| g.log_group_name() == Some(group.as_str())) {
                    Ok(())
                } else {
                    Err(format!("no log group {group}"))
                }
            })
    });
    let smtp_target = support.smtp_probe.clone();
    let smtp =
        timed("SMTP", smtp_target.clone().unwrap_or_else(|| "not configured (EASEL_SMTP_URL)".into()), async move {
            let Some(addr) = smtp_target else { return Err("EASEL_SMTP_URL is not set".to_string()) };
            let mut stream = TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
            let mut greeting = [0u8; 64];
            let n = stream.read(&mut greeting).await.map_err(|e| e.to_string())?;
            if greeting[..n].starts_with(b"220") {
                Ok(())
            } else {
                Err(format!("unexpected greeting {:?}", String::from_utf8_lossy(&greeting[..n])))
            }
        });
    let (pg, s3, cw, smtp) = tokio::join!(pg, s3, cw, smtp);
    vec![pg, s3, cw, smtp]
}

/// An error the resizer logged.
#[derive(Debug, Clone)]
pub struct RecentError {
    pub at: OffsetDateTime,
    pub request_id: Option<String>,
    pub message: String,
}

/// The latest `n` error lines of the last day, newest first.
pub async fn recent_errors(support: &Support, n: usize) -> Result<Vec<RecentError>, logs::LogsError> {
    let now = OffsetDateTime::now_utc();
    let events = logs::fetch_all(support, now - time::Duration::hours(24), now, 5_000).await?;
    let mut out: Vec<RecentError> = logs::group(events)
        .iter()
        .flat_map(|inv| {
            inv.events.iter().filter(|e| e.is_error()).map(|e| RecentError {
                at: e.at(),
                request_id: inv.request_id.clone(),
                message: e.message.trim_end().to_owned(),
            })
        })
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_chart_draws_a_bar_per_series_and_day_with_its_value() {
        let days: Vec<DayFigures> = (0..7)
            .map(|i| DayFigures {
                day: date!(2026 - 11 - 20).saturating_add(time::Duration::days(i)),
                uploads: i,
                resized: i / 2,
                failed: i % 2,
            })
            .collect();
        let svg = chart_svg(&days);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="bar uploads""#).count(), 7);
        assert_eq!(svg.matches(r#"class="bar failed""#).count(), 7);
        assert!(svg.contains("<title>2026-11-26 uploads: 6</title>"), "{svg}");
        assert!(svg.contains("2026-11-26: 6 uploaded, 3 resized, 0 failed"));
        // The scale rounds up: a maximum of 6 gets a top of 10.
        assert!(svg.contains(">10</text>"), "{svg}");
        assert_eq!(totals(&days), Totals { uploads: 21, resized: 9, failed: 3 });
        // Nothing at all still draws.
        assert!(chart_svg(&[]).contains("</svg>"));
    }
}
